-- conversation_facts again, partitioned by the day of each row's event (row_at: the time of the
-- conversation event, assignment, segment or outbound message the row was written from). Its rows
-- are ordered by conversation id, a hash, so "the conversations that started in [from, to)" were a
-- lookup of random ids that read the whole table (every granule holds one of a day's ids). Every row
-- of a conversation is written from an event at or after its start (a late message's platform time
-- may lie a little before it: the views allow a day), so those conversations' rows all lie in the
-- partitions from the range's first day on, and the views read only those (sink/views.py). FINAL
-- merges a conversation's rows across partitions as before. DDL 0068-0072 move the rows and swap
-- the tables.
CREATE TABLE IF NOT EXISTS conversation_facts_by_day
(
    tenant_id              LowCardinality(String),
    conversation_id        String,
    thread_key             SimpleAggregateFunction(any, Nullable(String)),
    customer_id            SimpleAggregateFunction(any, Nullable(String)),
    channel                SimpleAggregateFunction(any, Nullable(String)),
    channel_account_id     SimpleAggregateFunction(any, Nullable(String)),
    started_at             SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_inbound_at       SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_response_at      SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    first_assigned_at      SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    last_event_at          SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    closed_at              SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    close_reason           SimpleAggregateFunction(any, Nullable(String)),
    last_sequence          SimpleAggregateFunction(max, UInt64),
    agents                 SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    queues                 SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    wrapup_codes           SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    interaction_ended_at   SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    interaction_end_reason SimpleAggregateFunction(any, Nullable(String)),
    entry_point_id         SimpleAggregateFunction(any, Nullable(String)),
    campaign_id            SimpleAggregateFunction(any, Nullable(String)),
    referral_source        SimpleAggregateFunction(any, Nullable(String)),
    referral_source_id     SimpleAggregateFunction(any, Nullable(String)),
    language               SimpleAggregateFunction(any, Nullable(String)),
    language_confidence    SimpleAggregateFunction(any, Nullable(Float64)),
    media_type             SimpleAggregateFunction(any, Nullable(String)),
    first_queue_id         SimpleAggregateFunction(any, Nullable(String)),
    business_initiated     SimpleAggregateFunction(max, UInt8),
    row_at                 SimpleAggregateFunction(min, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(row_at)
ORDER BY (tenant_id, conversation_id)
