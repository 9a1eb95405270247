-- Outbound messages refused before any platform call, with the rule that refused them.
CREATE TABLE IF NOT EXISTS outbound_rejection_facts
(
    tenant_id          LowCardinality(String),
    outbound_id        String,
    rule               LowCardinality(String),
    conversation_id    Nullable(String),
    thread_key         String,
    channel            LowCardinality(String),
    channel_account_id String,
    agent_id           Nullable(String),
    rejected_at        DateTime64(3, 'UTC'),
    reason             String,
    content_types      Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, outbound_id, rule)
