-- The name the channel identity goes by (identity-event v2 `display_name`: the claim's name, from the
-- platform profile or what the customer typed); NULL for v1 events and identities without a name.
-- The agent's history shows the names of the customer's merge group (connectors/workspace/customers.py).
ALTER TABLE identity_facts
    ADD COLUMN IF NOT EXISTS display_name Nullable(String) AFTER external_id
