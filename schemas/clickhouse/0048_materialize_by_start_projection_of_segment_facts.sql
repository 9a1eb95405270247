-- The segments written before DDL 0047 into its projection (parts written since have it already).
ALTER TABLE segment_facts MATERIALIZE PROJECTION by_start SETTINGS mutations_sync = 2
