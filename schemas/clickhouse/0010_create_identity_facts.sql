-- Audited identity decisions from identity-events (created, linked, merged, flagged), by event id.
-- customer_links and customer_merges are views over it; history resolves merges transitively.
CREATE TABLE IF NOT EXISTS identity_facts
(
    tenant_id          LowCardinality(String),
    event_id           String,
    type               LowCardinality(String),
    customer_id        String,
    merged_customer_id Nullable(String),
    thread_key         Nullable(String),
    channel            LowCardinality(String),
    external_id        Nullable(String),
    detail_type        Nullable(String),
    detail_value       Nullable(String),
    candidates         Array(String),
    reason             String,
    occurred_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
