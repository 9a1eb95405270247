-- The report views read segments by time (sink/metrics.py: the segments touching a range), which
-- segment_facts' order (tenant_id, fact_id) cannot give: FINAL there merges the whole tenant. A
-- projection ordered by start can (DDL 0047). A ReplacingMergeTree refuses projections unless told
-- what a merge does to them, and a lightweight DELETE (switchboard erase) likewise: rebuild both.
ALTER TABLE segment_facts MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild',
    lightweight_mutation_projection_mode = 'rebuild'
