-- One row per conversation, assembled from its conversation-events (and assignments) the same
-- way as message_facts: min/max/any/set columns absorb replays. Message counts and first-response
-- times are derived from message_facts at query time, never summed here (a sum double-counts).
CREATE TABLE IF NOT EXISTS conversation_facts
(
    tenant_id          LowCardinality(String),
    conversation_id    String,
    thread_key         SimpleAggregateFunction(any, Nullable(String)),
    customer_id        SimpleAggregateFunction(any, Nullable(String)),
    channel            SimpleAggregateFunction(any, Nullable(String)),
    channel_account_id SimpleAggregateFunction(any, Nullable(String)),
    started_at         SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_inbound_at   SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_response_at  SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))), -- first outbound message
    first_assigned_at  SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    last_event_at      SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    closed_at          SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    close_reason       SimpleAggregateFunction(any, Nullable(String)),
    last_sequence      SimpleAggregateFunction(max, UInt64),
    agents             SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    queues             SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    wrapup_codes       SimpleAggregateFunction(groupUniqArrayArray, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant_id, conversation_id)
