-- message_timeline's rows ordered by conversation, a table of its own (DDL 0060 follows every insert):
-- the views read the whole history of the few conversations that began long before a range by
-- their ids, and the engine keys a table's read by a set of ids from a subquery, which it does not
-- do for a projection (DDL 0049's by_conversation, dropped by DDL 0062). A replay writes the same
-- row (same key): merges keep one, the views keep one per message_id.
CREATE TABLE IF NOT EXISTS message_timeline_by_conversation
(
    tenant_id       LowCardinality(String),
    conversation_id String,
    occurred_at     DateTime64(3, 'UTC'),
    message_id      String,
    channel         Nullable(String),
    direction       Nullable(String),
    sender_kind     Nullable(String),
    agent_id        Nullable(String),
    queue_id        Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, conversation_id, occurred_at, message_id)
