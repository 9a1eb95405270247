-- One conversation_facts row per generated conversation (from the plan, sink/generate/plan.sql):
-- when it started, its first customer message and our first reply, its agents, queues and codes,
-- the last interaction's end, and the 72 h inactivity close when that lies before {until_ms}.
INSERT INTO conversation_facts (tenant_id, conversation_id, thread_key, customer_id, channel, channel_account_id,
                                started_at, first_inbound_at, first_response_at, first_assigned_at, last_event_at,
                                closed_at, close_reason, last_sequence, agents, queues, wrapup_codes,
                                interaction_ended_at, interaction_end_reason, language, media_type, first_queue_id,
                                business_initiated, row_at)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     outcome1 = 'answered' AS answered,
     base + multiIf(has2, arrayMax(m2), answered, arrayMax(m1), greeted, enter1 + 1000, enter1 - 300) AS last_message,
     last_message + 72 * 3600000 <= toInt64({until_ms:UInt64}) AS closed
SELECT {tenant:String}, conversation_id, concat(channel, ':', channel_account_id, ':', customer_id), customer_id,
       channel, channel_account_id, at(base), at(base + if(bi, enter1 - 300, 0)),
       multiIf(bi, at(base), greeted, at(base + enter1 + 1000), answered, at(base + m1[1]), NULL),
       if(answered, at(base + exit1), NULL),
       at(greatest(base + story_end, last_message)),
       if(closed, at(last_message + 72 * 3600000), NULL), if(closed, 'inactivity', NULL),
       toUInt64(4 + length(m1) + length(m2) + 3 * has2),
       arrayDistinct(arrayFilter(a -> a != '', [agent1, if(has2, agent2, '')])),
       arrayDistinct([queue_id, if(has2, queue2_id, queue_id)]),
       arrayDistinct(arrayMap(c -> assumeNotNull(c), arrayFilter(c -> c IS NOT NULL, [code1, code2]))),
       if(answered, at(base + if(has2, i2_end, i1_end)), NULL), if(answered, 'agent_ended', NULL),
       language, 'messaging', queue_id, bi, at(base)
FROM {plan:Identifier}
