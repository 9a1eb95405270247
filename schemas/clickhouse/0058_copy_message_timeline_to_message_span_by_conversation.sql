-- The messages written before DDL 0057 into message_span_by_conversation.
INSERT INTO message_span_by_conversation (tenant_id, conversation_id, first_at, last_at)
SELECT tenant_id, conversation_id, min(occurred_at), max(occurred_at)
FROM message_timeline
GROUP BY tenant_id, conversation_id
