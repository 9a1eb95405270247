-- Per conversation: the media type routing routed it as (messaging for every messaging channel,
-- unless channel_media says otherwise; another system's work: voice, email… — from its queue
-- visits), the queue it first entered (its first queue visit as it opened), and whether a
-- business-initiated outbound message (outbound-message v3 business_initiated) belongs to it: the
-- direction is outbound when one does or its first message is ours (docs/metrics.md).
ALTER TABLE conversation_facts
    ADD COLUMN IF NOT EXISTS media_type SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS first_queue_id SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS business_initiated SimpleAggregateFunction(max, UInt8)
