-- DDL 0049's projection by conversation: the engine never reads it for a set of ids from a subquery,
-- the only way the views look conversations up; message_timeline_by_conversation (DDL 0059) does that.
ALTER TABLE message_timeline DROP PROJECTION IF EXISTS by_conversation
