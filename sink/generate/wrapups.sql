-- segment_facts wrapup: after each completed participation and after a consult transfer (a blind
-- transfer has none): wrapped up with a code, or the ACW time over (the queue's default code, else
-- none: skipped).
INSERT INTO segment_facts (tenant_id, fact_id, conversation_id, customer_id, channel, segment_type, queue_id, agent_id,
                           started_at, ended_at, outcome, wrapup_code, version, media, offer_id, wrapup_skipped)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     arrayJoin(arrayConcat(if(wrapped1, [1], []), if(has2, [2], []))) AS e,
     concat(conversation_id, ':o', toString(offers1 + e - 1)) AS offer,
     base + if(e = 1, w1_end, w2_end) AS ended,
     if(e = 1, code1, code2) AS code
SELECT {tenant:String}, concat('seg:', conversation_id, ':wrapup:', offer), conversation_id, customer_id, channel, 'wrapup',
       if(e = 1, queue_id, queue2_id), if(e = 1, agent1, agent2), at(base + if(e = 1, i1_end, i2_end)), at(ended),
       if(if(e = 1, wrap1_timeout, wrap2_timeout), 'timeout', 'wrapped_up'), code, toUInt64(ended) * 2 + 1, 'messaging',
       offer, code IS NULL
FROM {plan:Identifier}
WHERE wrapped1 OR has2
