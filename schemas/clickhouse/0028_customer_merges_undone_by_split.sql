-- Customers absorbed by merges, without the merges a person split later (identity-event v3 `split`:
-- customer_id the customer split off, merged_customer_id the one it had been merged with). A merge
-- after the split (a person confirmed them again) counts again.
CREATE OR REPLACE VIEW customer_merges AS
SELECT m.tenant_id AS tenant_id, m.merged_customer_id AS merged_customer_id, m.customer_id AS customer_id,
       m.merged_at AS merged_at, m.event_id AS event_id
FROM (SELECT tenant_id, assumeNotNull(merged_customer_id) AS merged_customer_id, customer_id,
             occurred_at AS merged_at, event_id,
             least(customer_id, assumeNotNull(merged_customer_id)) AS a,
             greatest(customer_id, assumeNotNull(merged_customer_id)) AS b
      FROM identity_facts FINAL
      WHERE type = 'merged' AND merged_customer_id IS NOT NULL) AS m
LEFT JOIN (SELECT tenant_id, least(customer_id, assumeNotNull(merged_customer_id)) AS a,
                  greatest(customer_id, assumeNotNull(merged_customer_id)) AS b, max(occurred_at) AS split_at
           FROM identity_facts FINAL
           WHERE type = 'split' AND merged_customer_id IS NOT NULL
           GROUP BY tenant_id, a, b) AS s
    ON m.tenant_id = s.tenant_id AND m.a = s.a AND m.b = s.b
WHERE s.split_at < m.merged_at
