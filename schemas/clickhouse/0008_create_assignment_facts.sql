-- Agents connected to, transferred from or ended on conversations, by assignment id.
CREATE TABLE IF NOT EXISTS assignment_facts
(
    tenant_id       LowCardinality(String),
    assignment_id   String,
    conversation_id String,
    thread_key      String,
    customer_id     Nullable(String),
    agent_id        String,
    queue_id        Nullable(String),
    offer_id        Nullable(String),
    type            LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    reason          Nullable(String),
    wrapup_code     Nullable(String),
    transfer_target Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, assignment_id)
