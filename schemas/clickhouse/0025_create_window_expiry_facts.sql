-- Free-reply windows that closed while the customer waited for an answer (conversation-event v5
-- `window_closed`, with the rule of the window that closed: window.whatsapp_24h, window.messenger…):
-- one row per event id, so a replay replaces. Customers lost to a closed window per channel:
--   SELECT channel, window_rule, count() FROM window_expiry_facts FINAL GROUP BY channel, window_rule
CREATE TABLE IF NOT EXISTS window_expiry_facts
(
    tenant_id          LowCardinality(String),
    event_id           String,
    conversation_id    String,
    thread_key         String,
    customer_id        Nullable(String),
    channel            LowCardinality(String),
    channel_account_id String,
    window_rule        LowCardinality(Nullable(String)),
    occurred_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
