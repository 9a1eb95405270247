-- DDL 0059's copy of message_timeline ordered by conversation, unread since DDL 0063 (DDL 0065
-- stopped filling it).
DROP TABLE IF EXISTS message_timeline_by_conversation
