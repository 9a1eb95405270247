-- Every approved outbound message (topic `outbound-approved`, written once per outbound id by the
-- thread stage or, for what an account rule governs, the account stage), keyed by outbound id so a
-- replay replaces. Beside outbound_rejection_facts it answers "approved vs refused per channel";
-- `fallbacks` are the declared content fallbacks the policy applied (attribute `fallbacks`:
-- sticker:emoji → ['sticker:emoji']); `price_*` the account stage's estimate (attributes
-- price.category / price.amount / price.currency), NULL when it did not price it.
--   SELECT channel, arrayJoin(fallbacks) AS fallback, count() FROM outbound_approval_facts FINAL
--   GROUP BY channel, fallback
CREATE TABLE IF NOT EXISTS outbound_approval_facts
(
    tenant_id          LowCardinality(String),
    outbound_id        String,
    thread_key         String,
    conversation_id    Nullable(String),
    channel            LowCardinality(String),
    channel_account_id String,
    portfolio_key      Nullable(String),
    agent_id           Nullable(String),
    kind               LowCardinality(String),
    template_name      Nullable(String),
    template_language  Nullable(String),
    template_category  LowCardinality(Nullable(String)),
    business_initiated UInt8,
    fallbacks          Array(String),
    content_types      Array(String),
    price_category     LowCardinality(Nullable(String)),
    price_amount       Nullable(Decimal(18, 6)),
    price_currency     LowCardinality(Nullable(String)),
    approved_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, outbound_id)
