-- When each conversation's messages begin and end: the earliest and latest occurred_at of its
-- message_timeline rows (DDL 0057 follows every insert). message_timeline is ordered by time, so
-- the views read "every message of these conversations" (a response's history, an interaction's
-- messages) as the time range from their first message to their last instead of a lookup by
-- conversation across the whole table; this table, one narrow row per conversation, gives that
-- range. min / max absorb replays and any order of arrival.
CREATE TABLE IF NOT EXISTS message_span_by_conversation
(
    tenant_id       LowCardinality(String),
    conversation_id String,
    first_at        SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_at         SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (tenant_id, conversation_id)
