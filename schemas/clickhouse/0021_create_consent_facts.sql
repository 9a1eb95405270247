-- A customer's opt-in or opt-out for business-initiated messages (consent v1, topic `consents`):
-- one row per consent id (deterministic), so a replay replaces. Who is opted in now is the latest
-- action per thread:
--   SELECT thread_key, argMax(action, occurred_at) AS now FROM consent_facts FINAL GROUP BY thread_key
CREATE TABLE IF NOT EXISTS consent_facts
(
    tenant_id          LowCardinality(String),
    consent_id         String,
    thread_key         String,
    channel            LowCardinality(String),
    channel_account_id String,
    recipient_id       String,
    action             LowCardinality(String),
    source             LowCardinality(String),
    occurred_at        DateTime64(3, 'UTC'),
    text               Nullable(String),
    recorded_by        Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, consent_id)
