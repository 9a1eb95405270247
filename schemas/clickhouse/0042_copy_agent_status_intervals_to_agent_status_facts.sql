-- The closed intervals written before agent_status_facts existed, so one table holds the history
-- (the sink writes agent-status-facts only to agent_status_facts from now on). Closed: version 2 x end + 1.
INSERT INTO agent_status_facts (tenant_id, fact_id, agent_id, status, routing_status, started_at, ended_at,
                                next_status, reason, version)
SELECT tenant_id, fact_id, agent_id, status,
       multiIf(status = 'on_queue', 'on_queue', status = 'not_responding', 'not_responding', 'off_queue'),
       started_at, ended_at, next_status, reason, toUInt64(toUnixTimestamp64Milli(ended_at)) * 2 + 1
FROM agent_status_intervals FINAL
