-- message_timeline (DDL 0049): the generated messages as the views read them by time, one complete
-- row each, copied from the message_facts rows the `messages` step wrote (one row per message, so
-- the copy is what the conversation-events carrying them would have given the sink).
INSERT INTO message_timeline (tenant_id, occurred_at, message_id, conversation_id, channel, direction, sender_kind,
                              agent_id, queue_id)
SELECT tenant_id, assumeNotNull(occurred_at), message_id, assumeNotNull(conversation_id), channel, direction, sender_kind,
       agent_id, queue_id
FROM message_facts
WHERE tenant_id = {tenant:String} AND startsWith(message_id, 'gen-')
