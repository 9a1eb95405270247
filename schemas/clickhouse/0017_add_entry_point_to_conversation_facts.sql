-- Where a conversation came from (conversation-event v4, on `started` — or on the `message_added`
-- that brought a referral to a conversation that had none): the entry point its referral resolved
-- to (switchboard admin entry-point), that entry point's campaign, the referral's source (ad, post,
-- shortlink = an m.me link, widget, product) and source id (the ad id). Reports count conversations
-- per entry point and campaign; a WhatsApp conversation with referral_source 'ad' and a
-- referral_source_id began from a click-to-WhatsApp ad (the 72 h free entry point window,
-- docs/channels/whatsapp.md). A conversation keeps its first referral: `any` of the non-NULL values.
ALTER TABLE conversation_facts
    ADD COLUMN IF NOT EXISTS entry_point_id SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS campaign_id SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS referral_source SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS referral_source_id SimpleAggregateFunction(any, Nullable(String))
