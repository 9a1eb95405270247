-- How long each agent spent in each routing status (on-queue, away, offline, not responding…),
-- from agent-status-facts: routing emits one interval when a status ends, under a deterministic
-- fact_id, so a replay replaces rather than adds. Durations are derived at query time.
CREATE TABLE IF NOT EXISTS agent_status_intervals
(
    tenant_id   LowCardinality(String),
    fact_id     String,
    agent_id    String,
    status      LowCardinality(String),
    started_at  DateTime64(3, 'UTC'),
    ended_at    DateTime64(3, 'UTC'),
    next_status Nullable(String),
    reason      Nullable(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, agent_id, started_at, fact_id)
