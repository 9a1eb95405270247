-- The segments written before DDL 0054 into its projection (parts written since have it already).
ALTER TABLE segment_facts MATERIALIZE PROJECTION by_end SETTINGS mutations_sync = 2
