-- Queue configuration history: each queue's settings as routing applied them (routing-decision v3
-- `configured`, streams/routing/configured.py), once per configuration a routing domain applies:
-- at start and after a changed routing file. The settings at time t are the row with the latest
-- configured_at <= t (argMax). A restart writes the same settings again under a later time.
CREATE TABLE IF NOT EXISTS queue_config_facts
(
    tenant_id                     LowCardinality(String),
    queue_id                      String,
    configured_at                 DateTime64(3, 'UTC'),
    decision_id                   String,
    service_level_percent         Float64,
    service_level_seconds         Float64,
    short_abandon_seconds         Float64,
    abandon_after_silence_seconds Nullable(Float64),
    alert_timeout_seconds         Float64,
    acw_mode                      LowCardinality(String),
    acw_timeout_seconds           Nullable(Float64),
    skills                        Map(String, UInt8)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, queue_id, configured_at, decision_id)
