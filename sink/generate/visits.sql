-- segment_facts queue_wait: the first queue visit of every conversation (answered or abandoned) and
-- the second one of a transfer or a returning customer (answered), each with its queue's settings
-- then. Closed rows (the version of a closed copy: 2 x end ms + 1, sink/rows.py).
INSERT INTO segment_facts (tenant_id, fact_id, conversation_id, customer_id, channel, segment_type, queue_id, agent_id,
                           started_at, ended_at, outcome, version, media, service_level_seconds, service_level_percent,
                           short_abandon_seconds)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     arrayJoin(if(has2, [1, 2], [1])) AS e,
     base + if(e = 1, exit1, exit2) AS ended
SELECT {tenant:String}, concat('seg:', conversation_id, ':queue_wait:', toString(e)), conversation_id, customer_id, channel,
       'queue_wait', if(e = 1, queue_id, queue2_id), NULL, at(base + if(e = 1, enter1, enter2)), at(ended),
       if(e = 1, outcome1, 'answered'), toUInt64(ended) * 2 + 1, 'messaging', if(e = 1, sl_s1, sl_s2),
       if(e = 1, sl_pct1, sl_pct2), if(e = 1, short1, short2)
FROM {plan:Identifier}
