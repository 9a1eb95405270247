-- message_timeline_by_conversation follows every insert into message_timeline.
CREATE MATERIALIZED VIEW IF NOT EXISTS message_timeline_by_conversation_mv TO message_timeline_by_conversation AS
SELECT tenant_id, conversation_id, occurred_at, message_id, channel, direction, sender_kind, agent_id, queue_id
FROM message_timeline
