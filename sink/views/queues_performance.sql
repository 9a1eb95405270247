-- Queues Performance (summary): one row per queue over [from, to): offered at entry; answered, abandoned, service level at exit; alerts when they end; handle when the wrap-up ends.
SELECT queue_id,
       {{named:offered,answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s}},
       {{named:alerts,not_answered,handled,avg_handle_s,handle_s,acw_s,transferred}}
FROM {{pivot:range:visits|queue_id|offered@started_at|answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s@ended_at}} AS visits
FULL JOIN (SELECT queue_id, {{metrics:alerts,not_answered}}
           FROM {{range:alerts}} WHERE {{during:ended_at}} AND {{where:alerts}} GROUP BY queue_id) AS offers USING queue_id
FULL JOIN {{pivot:range:participations|queue_id|handled,avg_handle_s,handle_s,acw_s@completed_at|transferred@ended_at}} AS work USING queue_id
WHERE queue_id IS NOT NULL
ORDER BY queue_id
