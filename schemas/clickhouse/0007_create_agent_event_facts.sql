-- What agents were told (offers with their alert expiry, revocations, not-responding…), by event id.
CREATE TABLE IF NOT EXISTS agent_event_facts
(
    tenant_id       LowCardinality(String),
    event_id        String,
    agent_id        String,
    type            LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    conversation_id Nullable(String),
    offer_id        Nullable(String),
    queue_id        Nullable(String),
    customer_id     Nullable(String),
    channel         LowCardinality(String),
    expires_at      Nullable(DateTime64(3, 'UTC')),
    reason          Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
