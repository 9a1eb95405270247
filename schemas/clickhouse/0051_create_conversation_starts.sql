-- When each conversation may have started, by time: conversation_facts is ordered by conversation
-- and its partial rows disagree on the start (started, first inbound), so "the conversations that
-- started in [from, to)" read it whole with FINAL. Every time a conversation_facts row gives
-- (started_at, first_inbound_at) lands here (DDL 0052), so a conversation whose start is in a range
-- has a row in it (or a segment starting in it: one only routing wrote about); the views then read
-- those conversations by key. A replay writes the same rows (same key).
CREATE TABLE IF NOT EXISTS conversation_starts
(
    tenant_id       LowCardinality(String),
    at              DateTime64(3, 'UTC'),
    conversation_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, at, conversation_id)
