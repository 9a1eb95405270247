-- Customers absorbed by merges: merged_customer_id's history now follows customer_id.
CREATE VIEW IF NOT EXISTS customer_merges AS
SELECT tenant_id, assumeNotNull(merged_customer_id) AS merged_customer_id, customer_id,
       occurred_at AS merged_at, event_id
FROM identity_facts FINAL
WHERE type = 'merged' AND merged_customer_id IS NOT NULL
