-- Everything agents did (presence, accept, decline, transfer, end, wrap-up), by action id.
CREATE TABLE IF NOT EXISTS agent_action_facts
(
    tenant_id       LowCardinality(String),
    action_id       String,
    agent_id        String,
    type            LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC'),
    presence        Nullable(String),
    conversation_id Nullable(String),
    offer_id        Nullable(String),
    target_queue_id Nullable(String),
    target_agent_id Nullable(String),
    transfer_mode   Nullable(String),
    wrapup_code     Nullable(String),
    note            Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, action_id)
