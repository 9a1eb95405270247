-- conversation_starts_mv follows inserts into conversation_facts; it goes while the tables are
-- swapped (DDL 0070) and comes back on the new table (DDL 0072), so it follows no renamed table.
DROP VIEW IF EXISTS conversation_starts_mv
