-- The conversations written before DDL 0052 into conversation_starts.
INSERT INTO conversation_starts (tenant_id, at, conversation_id)
SELECT tenant_id, assumeNotNull(t), conversation_id
FROM conversation_facts
ARRAY JOIN arrayFilter(x -> x IS NOT NULL, [CAST(started_at AS Nullable(DateTime64(3, 'UTC'))),
                                            CAST(first_inbound_at AS Nullable(DateTime64(3, 'UTC')))]) AS t
