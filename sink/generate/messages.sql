-- message_facts: per conversation our template (business-initiated) or the customer's first message,
-- the automatic reply while waiting, then each participation's exchange (the agent first, then the
-- customer and the agent in turn), and a returning customer's message. Times from the plan (plan.sql).
INSERT INTO message_facts (tenant_id, message_id, conversation_id, customer_id, thread_key, channel, channel_account_id,
                           direction, kind, content_types, text, agent_id, redelivered, occurred_at, received_at,
                           sender_kind, queue_id)
WITH (t) -> fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS at,
     ['Hi, I need help with my order', 'My card is not working', 'I was charged twice this month', 'Can you help me?',
      'Thanks!', 'Yes, that is right', 'It still does not work', 'Where is my refund?', 'Ok, I will try that',
      'Could you check again please?', 'Great, thank you so much'] AS customer_text,
     ['Hello! Let me check that for you.', 'Thanks for waiting, I can see your account now.', 'Could you confirm your date of birth?',
      'I have sent you a link to reset it.', 'Your refund is on its way.', 'Is there anything else I can help with?',
      'I have escalated this to our team.', 'Done: please try again now.'] AS agent_text,
     arrayConcat(
         if(bi, [(toInt64(0), 'outbound', 'system', '', queue_id, 'Your appointment is tomorrow at 10:00. Reply to change it.')], []),
         [(if(bi, enter1 - 300, 0), 'inbound', 'customer', '', queue_id, '')],
         if(greeted, [(enter1 + 1000, 'outbound', 'system', '', queue_id, 'Thanks for your message: an agent will be with you shortly.')], []),
         arrayMap((t, j) -> (t, if(j % 2 = 0, 'outbound', 'inbound'), if(j % 2 = 0, 'agent', 'customer'), if(j % 2 = 0, agent1, ''),
                             queue_id, ''), m1, range(length(m1))),
         if(second = 'return', [(enter2 - 300, 'inbound', 'customer', '', queue2_id, '')], []),
         arrayMap((t, j) -> (t, if(j % 2 = 0, 'outbound', 'inbound'), if(j % 2 = 0, 'agent', 'customer'), if(j % 2 = 0, agent2, ''),
                             queue2_id, ''), m2, range(length(m2)))) AS messages,
     arrayJoin(arrayZip(arrayEnumerate(messages), messages)) AS m,
     m.2 AS msg,
     cityHash64(conversation_id, m.1) AS h
SELECT {tenant:String}, concat(conversation_id, ':m', toString(m.1)), conversation_id, customer_id,
       concat(channel, ':', channel_account_id, ':', customer_id), channel, channel_account_id, msg.2,
       if(bi AND m.1 = 1, 'template', 'message'), ['text'],
       multiIf(msg.6 != '', msg.6, msg.3 = 'customer', customer_text[1 + h % length(customer_text)],
               agent_text[1 + h % length(agent_text)]),
       nullIf(msg.4, ''), 0, at(base + msg.1), if(msg.2 = 'inbound', at(base + msg.1 + 150), NULL), msg.3, msg.5
FROM {plan:Identifier}
