-- Interaction Details (export): one row per conversation that started in [from, to), with every figure an analyst asks for: its queue visits, agent participations, messages and response times.
SELECT conversation_id, customer_id, channel, channel_account_id, media_type, direction, started_at, ended_at,
       closed_at, close_reason, interaction_ended_at, interaction_end_reason, first_queue_id, queues, agents,
       wrapup_codes, language, entry_point_id, campaign_id,
       {{named:offered,answered,abandoned,short_abandons,flow_outs,wait_s,avg_answer_s}},
       {{named:agent_answered,handle_s,interact_s,acw_s,transferred,blind_transfers,consult_transfers}},
       {{named:messages_in,messages_out,first_response_s,agent_response_s,customer_response_s}}
FROM {{page_first:conversations}} AS c
LEFT JOIN (SELECT conversation_id, {{metrics:offered,answered,abandoned,short_abandons,flow_outs,wait_s,avg_answer_s}}
           FROM {{page_first:visits}} GROUP BY conversation_id) AS v USING conversation_id
LEFT JOIN (SELECT conversation_id, {{metrics:agent_answered,handle_s,interact_s,acw_s,transferred,blind_transfers,consult_transfers}}
           FROM {{page_first:participations}} GROUP BY conversation_id) AS p USING conversation_id
LEFT JOIN (SELECT conversation_id, {{metrics:messages_in,messages_out}} FROM {{page_first:messages}}
           GROUP BY conversation_id) AS m USING conversation_id
LEFT JOIN (SELECT conversation_id, {{metrics:first_response_s,agent_response_s,customer_response_s}}
           FROM {{page_first:responses}} GROUP BY conversation_id) AS r USING conversation_id
WHERE {{during:started_at}} AND {{where:conversations}}
ORDER BY started_at, conversation_id
LIMIT {limit:UInt32}
