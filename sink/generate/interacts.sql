-- segment_facts interact: each agent participation, from its accepted offer to its end (completed,
-- or transferred blind / consult to a queue or an agent: a consult transfer's first agent stays
-- until the second accepts).
INSERT INTO segment_facts (tenant_id, fact_id, conversation_id, customer_id, channel, segment_type, queue_id, agent_id,
                           started_at, ended_at, outcome, transfer_type, transfer_target, version, media, offer_id)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     arrayJoin(if(has2, [1, 2], [1])) AS e,
     concat(conversation_id, ':o', toString(offers1 + e - 1)) AS offer,
     base + if(e = 1, i1_end, i2_end) AS ended
SELECT {tenant:String}, concat('seg:', conversation_id, ':interact:', offer), conversation_id, customer_id, channel, 'interact',
       if(e = 1, queue_id, queue2_id), if(e = 1, agent1, agent2), at(base + if(e = 1, exit1, exit2)), at(ended),
       if(e = 1, i1_outcome, 'completed'), if(e = 1, transfer_type, NULL), if(e = 1, transfer_target, NULL),
       toUInt64(ended) * 2 + 1, 'messaging', offer
FROM {plan:Identifier}
WHERE outcome1 = 'answered'
