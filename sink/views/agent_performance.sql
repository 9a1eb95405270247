-- Agent Performance (detail): each agent per interval (granularity, on the viewer's clock), each figure in the interval of its own event: answered when accepted, handle when the wrap-up ends, transfers when the participation ends, alerts and status time when they end, responses when sent.
SELECT toDateTime64(interval_start, 0, {tz:String}) AS interval_start, agent_id,
       {{named:agent_answered,handled,avg_handle_s,handle_s,interact_s,acw_s}},
       {{named:transferred,blind_transfers,consult_transfers,transfers_to_queue,transfers_to_agent}},
       {{named:alerts,alert_s,not_answered,on_queue_s,off_queue_s,not_responding_s,messages_out}},
       {{named:first_response_participation_s,agent_response_s,customer_response_s,max_concurrent}}
FROM {{pivot:range:participations|interval_start,agent_id|agent_answered@started_at|handled,avg_handle_s,handle_s,interact_s,acw_s@completed_at|transferred,blind_transfers,consult_transfers,transfers_to_queue,transfers_to_agent@ended_at}} AS work
FULL JOIN (SELECT {{bucket:ended_at}} AS interval_start, agent_id, {{metrics:alerts,alert_s,not_answered}} FROM {{range:alerts}}
           WHERE {{during:ended_at}} AND {{where:alerts}} GROUP BY interval_start, agent_id) AS offers USING (interval_start, agent_id)
FULL JOIN (SELECT {{bucket:ended_at}} AS interval_start, agent_id, {{metrics:on_queue_s,off_queue_s,not_responding_s}} FROM {{range:statuses}}
           WHERE {{during:ended_at}} AND {{where:statuses}} GROUP BY interval_start, agent_id) AS presence USING (interval_start, agent_id)
FULL JOIN (SELECT {{bucket:at}} AS interval_start, agent_id, {{metrics:messages_out}} FROM {{range:messages}}
           WHERE {{during:at}} AND agent_id IS NOT NULL AND {{where:messages}} GROUP BY interval_start, agent_id) AS written USING (interval_start, agent_id)
FULL JOIN (SELECT {{bucket:at}} AS interval_start, agent_id, {{metrics:first_response_participation_s,agent_response_s,customer_response_s}}
           FROM {{range:responses}} WHERE {{during:at}} AND {{where:responses}} GROUP BY interval_start, agent_id) AS answers USING (interval_start, agent_id)
FULL JOIN (SELECT {{bucket:at}} AS interval_start, agent_id, {{metrics:max_concurrent}} FROM {{range:concurrency}}
           WHERE {{during:at}} AND {{where:concurrency}} GROUP BY interval_start, agent_id) AS held USING (interval_start, agent_id)
WHERE agent_id IS NOT NULL
ORDER BY interval_start, agent_id
