-- Every closed copy of a segment that lasted a day or more (sink/metrics.py LOOKBACK: a test holds
-- them to the same interval) lands in long_segments, from the sink and `switchboard generate` alike.
CREATE MATERIALIZED VIEW IF NOT EXISTS long_segments_mv TO long_segments AS
SELECT tenant_id, segment_type, fact_id, version, conversation_id, queue_id, channel, media, agent_id, offer_id,
       started_at, assumeNotNull(ended_at) AS ended_at, outcome, transfer_type, transfer_target, wrapup_code,
       service_level_seconds, short_abandon_seconds
FROM segment_facts
WHERE ended_at IS NOT NULL AND ended_at >= started_at + INTERVAL 1 DAY
