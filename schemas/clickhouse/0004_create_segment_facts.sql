-- Interaction segments (queue wait, alert, interact, wrap-up) from segment-facts. A segment may
-- be published open and again closed under the same deterministic fact_id: the version (its end,
-- else its start, in ms) keeps the most complete one.
CREATE TABLE IF NOT EXISTS segment_facts
(
    tenant_id       LowCardinality(String),
    fact_id         String,
    conversation_id String,
    customer_id     Nullable(String),
    channel         LowCardinality(String),
    segment_type    LowCardinality(String),
    queue_id        Nullable(String),
    agent_id        Nullable(String),
    started_at      DateTime64(3, 'UTC'),
    ended_at        Nullable(DateTime64(3, 'UTC')),
    outcome         Nullable(String),
    wrapup_code     Nullable(String),
    transfer_type   Nullable(String),
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, fact_id)
