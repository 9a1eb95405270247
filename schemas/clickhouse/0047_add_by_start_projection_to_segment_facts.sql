-- Segments ordered by (tenant, type, start): a time range of one segment type is a key range. Every
-- copy of a fact (open, closed, replayed) shares its start (streams/routing/outputs.py: the work's
-- or visit's start), so the views take its latest version per fact (argMax by version) among the
-- rows of the range instead of FINAL; the projection follows inserts, merges, deletes and erasure.
ALTER TABLE segment_facts ADD PROJECTION IF NOT EXISTS by_start (SELECT * ORDER BY tenant_id, segment_type, started_at)
