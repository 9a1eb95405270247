-- My Queues Activity (real time): per queue, now: waiting, longest wait, interacting, agents on queue / idle / not responding; and today (from the viewer's local midnight): offered, answered, abandoned, service level.
-- An agent counts for a queue they serve: offered its conversations or a candidate of routing for it in the last 7 days (the facts hold no queue membership).
SELECT queue_id, {{named:waiting,longest_wait_s}}, interacting, agents_on_queue, agents_idle, agents_not_responding,
       {{named:offered,answered,abandoned,sl_pct}}
FROM {{pivot:range_today:visits|queue_id|waiting,longest_wait_s@open|offered@today.started_at|answered,abandoned,sl_pct@today.ended_at}} AS queued
FULL JOIN (SELECT queue_id, {{now:interacting}} FROM {{range_now:participations}}
           WHERE {{open:participations}} AND {{where:participations}}
           GROUP BY queue_id) AS connected USING queue_id
FULL JOIN (SELECT queue_id, uniqExactIf(agent_id, routing_status = 'on_queue') AS agents_on_queue,
                  uniqExactIf(agent_id, routing_status = 'on_queue' AND agent_id NOT IN (
                      SELECT agent_id FROM {{range_now:participations}} WHERE ended_at IS NULL AND agent_id IS NOT NULL
                      UNION ALL SELECT agent_id FROM {{range_now:alerts}} WHERE ended_at IS NULL AND agent_id IS NOT NULL)) AS agents_idle,
                  uniqExactIf(agent_id, routing_status = 'not_responding') AS agents_not_responding
           FROM ({{serving:week}}) AS serving
           INNER JOIN (SELECT agent_id, argMax(routing_status, started_at) AS routing_status FROM {{range_now:statuses}}
                       WHERE ended_at IS NULL AND started_at <= {now:DateTime64(3, 'UTC')} AND {{where:statuses}}
                       GROUP BY agent_id) AS present USING agent_id
           GROUP BY queue_id) AS staffed USING queue_id
WHERE queue_id IS NOT NULL AND {{where:queues}}
ORDER BY queue_id
