-- Segments are written when they open (ended_at NULL, outcome NULL) and again when they close,
-- under the same fact_id (segment-fact v2, streams/routing/segments.py); the version prefers the
-- closed copy (sink/rows.py: 2 x ms + 1 when closed). What reports need besides: the media routed,
-- the offer an agent's participation came from (alert, interact and wrapup of one offer share it),
-- the queue visit an alert was offered from, the queue's service level and short-abandon threshold
-- as they were during the visit, a transfer's target, the wrap-up's note and whether it was skipped.
ALTER TABLE segment_facts
    ADD COLUMN IF NOT EXISTS media LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS offer_id Nullable(String),
    ADD COLUMN IF NOT EXISTS queue_visit_id Nullable(String),
    ADD COLUMN IF NOT EXISTS service_level_seconds Nullable(Float64),
    ADD COLUMN IF NOT EXISTS service_level_percent Nullable(Float64),
    ADD COLUMN IF NOT EXISTS short_abandon_seconds Nullable(Float64),
    ADD COLUMN IF NOT EXISTS transfer_target Nullable(String),
    ADD COLUMN IF NOT EXISTS wrapup_note Nullable(String),
    ADD COLUMN IF NOT EXISTS wrapup_skipped UInt8 DEFAULT 0
