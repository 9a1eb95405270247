-- Every read of a customer's conversation by a person (topic `access-audit`, issue 15 item 5): who
-- (actor, role, session), what (the read, conversation, customer, how many items, the path) and
-- when. One row per read, keyed by its random audit id so a replayed record replaces itself.
--   Who read this customer's data last month?
--   SELECT occurred_at, actor_id, actor_role, read, conversation_id FROM access_audit_facts FINAL
--   WHERE tenant_id = 'acme' AND customer_id = 'cust-…' AND occurred_at > now() - INTERVAL 30 DAY
--   ORDER BY occurred_at
CREATE TABLE IF NOT EXISTS access_audit_facts
(
    tenant_id       LowCardinality(String),
    audit_id        String,
    actor_id        String,
    actor_role      LowCardinality(String),
    session_id      Nullable(String),
    read            LowCardinality(String),
    conversation_id Nullable(String),
    customer_id     Nullable(String),
    items           UInt32,
    path            String,
    origin          LowCardinality(String),
    occurred_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, audit_id)
