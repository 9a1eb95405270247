-- Segment starts and ends ordered by (tenant, type, end; open ones, ended_at NULL, last): the
-- views find the segments begun before a range's lookback that were still open at its start, or
-- closed in or after it (sink/metrics.py `_old`), as a key range of the recent ends instead of a scan
-- of every older start (DDL 0047's order). Only the four columns those lookups read: the engine picks
-- whichever of by_start and by_end reads fewer granules. Merges and deletes rebuild it (DDL 0046).
ALTER TABLE segment_facts ADD PROJECTION IF NOT EXISTS by_end
    (SELECT tenant_id, segment_type, started_at, ended_at ORDER BY tenant_id, segment_type, ended_at)
