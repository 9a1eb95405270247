-- The messages written before DDL 0060 into message_timeline_by_conversation.
INSERT INTO message_timeline_by_conversation (tenant_id, conversation_id, occurred_at, message_id, channel, direction,
                                              sender_kind, agent_id, queue_id)
SELECT tenant_id, conversation_id, occurred_at, message_id, channel, direction, sender_kind, agent_id, queue_id
FROM message_timeline
