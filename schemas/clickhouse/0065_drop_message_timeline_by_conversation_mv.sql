-- Nothing reads message_timeline_by_conversation since responses are facts of their own (DDL 0063):
-- the views read no conversation's whole history any more. Its materialized view goes first, so
-- no insert into message_timeline writes a second copy of each message.
DROP VIEW IF EXISTS message_timeline_by_conversation_mv
