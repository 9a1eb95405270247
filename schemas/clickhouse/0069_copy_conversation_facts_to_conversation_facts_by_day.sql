-- The rows written before DDL 0067. Their event's time is not kept, so each lands in the day of
-- this migration: a conversation started before it is found in that partition by any range from
-- a day before it on, one started after it has no row there. Once the range is past that day the
-- partition is not read. (A row of a conversation dated after this day, a clock ahead, would be
-- missed by a range that starts over a day after the migration.)
INSERT INTO conversation_facts_by_day (tenant_id, conversation_id, thread_key, customer_id, channel,
    channel_account_id, started_at, first_inbound_at, first_response_at, first_assigned_at, last_event_at,
    closed_at, close_reason, last_sequence, agents, queues, wrapup_codes, interaction_ended_at,
    interaction_end_reason, entry_point_id, campaign_id, referral_source, referral_source_id, language,
    language_confidence, media_type, first_queue_id, business_initiated, row_at)
SELECT tenant_id, conversation_id, thread_key, customer_id, channel, channel_account_id, started_at,
       first_inbound_at, first_response_at, first_assigned_at, last_event_at, closed_at, close_reason,
       last_sequence, agents, queues, wrapup_codes, interaction_ended_at, interaction_end_reason,
       entry_point_id, campaign_id, referral_source, referral_source_id, language, language_confidence,
       media_type, first_queue_id, business_initiated, now64(3, 'UTC')
FROM conversation_facts
