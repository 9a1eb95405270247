-- conversation_starts follows every insert into conversation_facts again (DDL 0052, on the table of
-- DDL 0067): the sink's rows and `switchboard generate`'s INSERT … SELECT alike.
CREATE MATERIALIZED VIEW IF NOT EXISTS conversation_starts_mv TO conversation_starts AS
SELECT tenant_id, assumeNotNull(t) AS at, conversation_id
FROM conversation_facts
ARRAY JOIN arrayFilter(x -> x IS NOT NULL, [CAST(started_at AS Nullable(DateTime64(3, 'UTC'))),
                                            CAST(first_inbound_at AS Nullable(DateTime64(3, 'UTC')))]) AS t
