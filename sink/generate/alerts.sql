-- segment_facts alert: one per offer (offer id <conversation>:o<k>, numbered as routing numbers them):
-- the first visit's declined or timed-out offers, the accepted one, an abandoned one's ringing
-- offer; the second visit's accepted offer. Each tied to its queue visit.
INSERT INTO segment_facts (tenant_id, fact_id, conversation_id, customer_id, channel, segment_type, queue_id, agent_id,
                           started_at, ended_at, outcome, version, media, offer_id, queue_visit_id)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     arrayConcat(arrayMap(i -> (i, 1, a1_agent[i], a1_start[i], a1_end[i], a1_outcome[i]), range(1, offers1 + 1)),
                 if(has2, [(offers1 + 1, 2, agent2, alert2_start, exit2, 'accepted')], [])) AS offers,
     arrayJoin(offers) AS o,
     concat(conversation_id, ':o', toString(o.1)) AS offer
SELECT {tenant:String}, concat('seg:', conversation_id, ':alert:', offer), conversation_id, customer_id, channel, 'alert',
       if(o.2 = 1, queue_id, queue2_id), o.3, at(base + o.4), at(base + o.5), o.6, toUInt64(base + o.5) * 2 + 1,
       'messaging', offer, concat('seg:', conversation_id, ':queue_wait:', toString(o.2))
FROM {plan:Identifier}
WHERE length(offers) > 0
