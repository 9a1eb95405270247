-- One row per response: a customer's or agent's message that begins a run of their side after the
-- other side wrote (docs/metrics.md, response times), worked out by the conversation processor,
-- which puts a conversation's messages in order (streams/conversations/responses.py), and carried
-- by its message_added event (conversation-event v7 `response`). Ordered by time, so the views
-- read a range's responses as a key range instead of the history of every conversation written
-- to in it. A replay writes the same row (same key): merges keep one, the views keep one per message_id.
CREATE TABLE IF NOT EXISTS response_facts
(
    tenant_id              LowCardinality(String),
    at                     DateTime64(3, 'UTC'),
    message_id             String,
    conversation_id        String,
    channel                Nullable(String),
    responder              LowCardinality(String),   -- customer / agent
    agent_id               Nullable(String),         -- the agent's, or the agent the customer answers
    response_s             Float64,                  -- since the first message of the run it answers
    first_of_conversation  UInt8,                    -- the side's first response in the conversation
    first_of_participation UInt8                     -- the side's first for this agent in the conversation
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, at, message_id)
