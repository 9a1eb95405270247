-- Who sent a message: customer (inbound), agent (an outbound message with an agent), system (an
-- outbound message without one: notifications, templates a system sent); and the queue the
-- conversation was in at the time when the conversation event says so. The agent of a message
-- is agent_id (DDL 0001). Only the sources that know write them: NULL elsewhere.
ALTER TABLE message_facts
    ADD COLUMN IF NOT EXISTS sender_kind SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS queue_id SimpleAggregateFunction(any, Nullable(String))
