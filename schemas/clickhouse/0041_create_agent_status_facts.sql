-- Agent presence intervals, open ones included (agent-status-interval v2: written when a status
-- begins, closed = false, and again when it ends, under the same fact_id). agent_status_intervals
-- (DDL 0006) cannot take them: its ended_at is not nullable and it has no version, so an open row
-- and its closed copy inserted in one batch would leave either. Here the version (2 x ms + 1 when
-- closed) keeps the closed copy; ended_at is NULL while the status lasts. routing_status: off_queue,
-- on_queue, not_responding (idle or interacting within on_queue: the agent's open segments).
CREATE TABLE IF NOT EXISTS agent_status_facts
(
    tenant_id      LowCardinality(String),
    fact_id        String,
    agent_id       String,
    status         LowCardinality(String),
    routing_status LowCardinality(String),
    started_at     DateTime64(3, 'UTC'),
    ended_at       Nullable(DateTime64(3, 'UTC')),
    next_status    Nullable(String),
    reason         Nullable(String),
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, agent_id, started_at, fact_id)
