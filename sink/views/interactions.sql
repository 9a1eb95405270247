-- Interactions: one row per conversation that started in [from, to), newest first (at most `limit`): where it came from, who handled it, how it ended.
SELECT conversation_id, started_at, ended_at, if(closed_at IS NULL, 'open', 'closed') AS state, channel, media_type,
       direction, customer_id, first_queue_id, queues, agents, wrapup_codes,
       dateDiff('millisecond', started_at, ifNull(ended_at, {to:DateTime64(3, 'UTC')})) / 1000 AS duration_s,
       {{named:messages_in,messages_out}}
FROM {{page_last:conversations}} AS c
LEFT JOIN (SELECT conversation_id, {{metrics:messages_in,messages_out}} FROM {{page_last:messages}}
           GROUP BY conversation_id) AS m USING conversation_id
WHERE {{during:started_at}} AND {{where:conversations}}
ORDER BY started_at DESC, conversation_id
LIMIT {limit:UInt32}
