-- The ACD's audit trail from routing-decisions: one row per decision (classified, offered, queued,
-- reserved, ring_expanded, requeued, abandoned, transferred, ignored) under a deterministic
-- decision_id, so a replay replaces rather than adds. `candidates` is the audit's candidate list
-- as JSON (rank, excluded reason, proficiency, active, idle since); `candidate_agents` the ids.
CREATE TABLE IF NOT EXISTS routing_decisions
(
    tenant_id        LowCardinality(String),
    decision_id      String,
    occurred_at      DateTime64(3, 'UTC'),
    kind             LowCardinality(String),
    conversation_id  Nullable(String),
    queue_id         Nullable(String),
    agent_id         Nullable(String),
    offer_id         Nullable(String),
    rule             Nullable(String),
    matched_words    Array(String),
    ring             UInt8,
    skills           Map(String, UInt8),
    language         Nullable(String),
    relaxed          Array(String),
    priority         Int32,
    reason           String,
    candidate_agents Array(String),
    candidates       String,
    candidates_total UInt32,
    unavailable      UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, occurred_at, decision_id)
