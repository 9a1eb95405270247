-- One row per delivery-status event (sent, delivered, read, failed), keyed by its deterministic
-- event id: a replay replaces, never adds.
CREATE TABLE IF NOT EXISTS delivery_facts
(
    tenant_id            LowCardinality(String),
    event_id             String,
    thread_key           String,
    channel              LowCardinality(String),
    channel_account_id   String,
    status               LowCardinality(String),
    outbound_id          Nullable(String),
    platform_message_ids Array(String),
    watermark            Nullable(DateTime64(3, 'UTC')),
    occurred_at          DateTime64(3, 'UTC'),
    error_code           Nullable(String),
    error_reason         Nullable(String),
    retriable            UInt8,
    attempts             UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
