-- One row per message, inbound or outbound, whatever topic told us about it first.
-- Several topics describe the same message (inbound-messages or outbound-approved: what was said;
-- conversation-events: which conversation and customer it belongs to), so the row is assembled
-- from partial rows: every column is a SimpleAggregateFunction that ignores NULLs, merged by key.
-- Replaying any topic re-inserts identical partial rows, which merge to the same row: read with FINAL.
CREATE TABLE IF NOT EXISTS message_facts
(
    tenant_id           LowCardinality(String),
    message_id          String,                                        -- inbound event_id / outbound_id
    conversation_id     SimpleAggregateFunction(any, Nullable(String)),
    customer_id         SimpleAggregateFunction(any, Nullable(String)),
    thread_key          SimpleAggregateFunction(any, Nullable(String)),
    channel             SimpleAggregateFunction(any, Nullable(String)),
    channel_account_id  SimpleAggregateFunction(any, Nullable(String)),
    direction           SimpleAggregateFunction(any, Nullable(String)), -- inbound / outbound
    kind                SimpleAggregateFunction(any, Nullable(String)), -- message, postback, reply, template…
    content_types       SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    text                SimpleAggregateFunction(any, Nullable(String)),
    agent_id            SimpleAggregateFunction(any, Nullable(String)),
    platform_message_id SimpleAggregateFunction(any, Nullable(String)),
    platform_event_id   SimpleAggregateFunction(any, Nullable(String)),
    redelivered         SimpleAggregateFunction(max, UInt8),
    occurred_at         SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    received_at         SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC')))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant_id, message_id)
