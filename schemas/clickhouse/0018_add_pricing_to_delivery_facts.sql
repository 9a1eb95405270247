-- What a WhatsApp message cost (delivery-status v2; prices from deploy/pricing/whatsapp.yaml,
-- switchboard/pricing.py). Every status keeps the webhook's pricing: category (marketing, utility,
-- authentication, service, referral_conversion…), model (PMP per message, CBP per conversation
-- before July 2025), billable, type (regular, free_customer_service, free_entry_point) and the
-- conversation's origin and id. Only the `delivered` row of a PMP message carries cost, currency,
-- market and country (0 when free; NULL when not priced), so a report sums
-- `cost` per day and category without counting sent/read twice:
--   SELECT toDate(occurred_at) AS day, pricing_category, currency, sum(cost)
--   FROM delivery_facts FINAL WHERE cost IS NOT NULL GROUP BY day, pricing_category, currency
ALTER TABLE delivery_facts
    ADD COLUMN IF NOT EXISTS pricing_category LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS pricing_model LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS billable Nullable(UInt8),
    ADD COLUMN IF NOT EXISTS pricing_type LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS conversation_origin LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS platform_conversation_id Nullable(String),
    ADD COLUMN IF NOT EXISTS cost Nullable(Decimal(18, 6)),
    ADD COLUMN IF NOT EXISTS currency LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS market LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS country LowCardinality(Nullable(String))
