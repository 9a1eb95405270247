-- The messages written before DDL 0049, as the views read them until then (message_facts FINAL:
-- each message merged from its partial rows, those with a conversation and a time).
INSERT INTO message_timeline (tenant_id, occurred_at, message_id, conversation_id, channel, direction, sender_kind,
                              agent_id, queue_id)
SELECT tenant_id, assumeNotNull(occurred_at), message_id, assumeNotNull(conversation_id), channel, direction,
       sender_kind, agent_id, queue_id
FROM message_facts FINAL
WHERE occurred_at IS NOT NULL AND conversation_id IS NOT NULL
