-- Queues Performance (summary): one row per queue over [from, to): offered at entry; answered, abandoned, service level at exit; alerts when they end; handle when the wrap-up ends.
SELECT queue_id,
       {{named:offered,answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s}},
       {{named:alerts,not_answered,handled,avg_handle_s,handle_s,acw_s,transferred}}
FROM (SELECT queue_id, {{metrics:offered}} FROM {{range:visits}}
      WHERE {{during:started_at}} AND {{where:visits}} GROUP BY queue_id) AS entered
FULL JOIN (SELECT queue_id, {{metrics:answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s}}
           FROM {{range:visits}} WHERE {{during:ended_at}} AND {{where:visits}} GROUP BY queue_id) AS exited USING queue_id
FULL JOIN (SELECT queue_id, {{metrics:alerts,not_answered}}
           FROM {{range:alerts}} WHERE {{during:ended_at}} AND {{where:alerts}} GROUP BY queue_id) AS offers USING queue_id
FULL JOIN (SELECT queue_id, {{metrics:handled,avg_handle_s,handle_s,acw_s}}
           FROM {{range:participations}} WHERE {{during:completed_at}} AND {{where:participations}} GROUP BY queue_id) AS completed USING queue_id
FULL JOIN (SELECT queue_id, {{metrics:transferred}}
           FROM {{range:participations}} WHERE {{during:ended_at}} AND {{where:participations}} GROUP BY queue_id) AS ended USING queue_id
WHERE queue_id IS NOT NULL
ORDER BY queue_id
