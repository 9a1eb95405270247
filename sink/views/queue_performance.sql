-- Queue Performance (detail): each queue per interval (granularity, on the viewer's clock): offered in the interval of entry; answered, abandoned, service level in the interval of exit; handle in the interval the wrap-up ends.
SELECT toDateTime64(interval_start, 0, {tz:String}) AS interval_start, queue_id,
       {{named:offered,answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s}},
       {{named:alerts,not_answered,handled,avg_handle_s,handle_s,acw_s,transferred}}
FROM {{pivot:range:visits|interval_start,queue_id|offered@started_at|answered,abandoned,short_abandons,flow_outs,sl_pct,answer_pct,abandon_pct,avg_answer_s,avg_abandon_s,wait_s@ended_at}} AS visits
FULL JOIN (SELECT {{bucket:ended_at}} AS interval_start, queue_id, {{metrics:alerts,not_answered}}
           FROM {{range:alerts}} WHERE {{during:ended_at}} AND {{where:alerts}}
           GROUP BY interval_start, queue_id) AS offers USING (interval_start, queue_id)
FULL JOIN {{pivot:range:participations|interval_start,queue_id|handled,avg_handle_s,handle_s,acw_s@completed_at|transferred@ended_at}} AS work
          USING (interval_start, queue_id)
WHERE queue_id IS NOT NULL
ORDER BY interval_start, queue_id
