-- One complete row per message of a conversation, written from one source: the conversation
-- processor's conversation-event that carries the message (message_added, edits and unsends), which
-- knows its conversation, channel, direction, agent, queue and time at once (sink/rows_messages.py).
-- message_facts' partial rows disagree on occurred_at, so a time range cannot select them; here
-- the order is time, so the report views read a range as a key range, and a projection by
-- conversation reads one conversation's messages (the responses' history, the interaction).
-- A replay writes the same row (same key): merges keep one, the views keep one per message_id.
CREATE TABLE IF NOT EXISTS message_timeline
(
    tenant_id       LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    message_id      String,
    conversation_id String,
    channel         Nullable(String),
    direction       Nullable(String),   -- inbound / outbound
    sender_kind     Nullable(String),   -- customer / agent / system
    agent_id        Nullable(String),
    queue_id        Nullable(String),
    PROJECTION by_conversation (SELECT * ORDER BY tenant_id, conversation_id, occurred_at, message_id)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, occurred_at, message_id)
SETTINGS deduplicate_merge_projection_mode = 'rebuild', lightweight_mutation_projection_mode = 'rebuild'
