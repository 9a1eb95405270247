-- message_span_by_conversation follows every insert into message_timeline (the sink's rows and
-- `switchboard generate`'s INSERT … SELECT alike).
CREATE MATERIALIZED VIEW IF NOT EXISTS message_span_by_conversation_mv TO message_span_by_conversation AS
SELECT tenant_id, conversation_id, occurred_at AS first_at, occurred_at AS last_at
FROM message_timeline
