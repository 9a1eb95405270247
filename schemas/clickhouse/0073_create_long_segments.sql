-- The segments that lasted a day or more (their closed copy), ordered by end. The views read the
-- segments touching a range by start from a day before it (sink/metrics.py LOOKBACK) and, for the
-- older ones still open at its start or closed in or after it, by each one's start: those starts lie
-- anywhere in the history, so that read took a granule per start, most of the history's granules.
-- The closed ones among them lasted over a day, so they are here, a key range of their ends; only
-- the open ones are still read by start. DDL 0074 copies every such closed copy, 0075 the ones
-- written before. The columns are what the views read of a segment (sink/metrics.py SEGMENT).
CREATE TABLE IF NOT EXISTS long_segments
(
    tenant_id             LowCardinality(String),
    segment_type          LowCardinality(String),
    fact_id               String,
    version               UInt64,
    conversation_id       String,
    queue_id              Nullable(String),
    channel               LowCardinality(String),
    media                 LowCardinality(Nullable(String)),
    agent_id              Nullable(String),
    offer_id              Nullable(String),
    started_at            DateTime64(3, 'UTC'),
    ended_at              DateTime64(3, 'UTC'),
    outcome               Nullable(String),
    transfer_type         Nullable(String),
    transfer_target       Nullable(String),
    wrapup_code           Nullable(String),
    service_level_seconds Nullable(Float64),
    short_abandon_seconds Nullable(Float64)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, segment_type, ended_at, fact_id)
