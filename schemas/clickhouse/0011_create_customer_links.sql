-- Which customer a thread (one person on one channel account) belongs to: the latest link wins.
CREATE VIEW IF NOT EXISTS customer_links AS
SELECT tenant_id, thread_key, argMax(customer_id, (occurred_at, event_id)) AS customer_id,
       max(occurred_at) AS linked_at
FROM identity_facts FINAL
WHERE type IN ('created', 'linked') AND thread_key IS NOT NULL
GROUP BY tenant_id, thread_key
