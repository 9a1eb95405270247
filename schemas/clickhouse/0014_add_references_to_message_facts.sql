-- What a message refers to (inbound-message v2, conversation-event v3): the platform id of the
-- message it quotes, of the message an edit or unsend changes (kind `edit` / `unsend`: the row is
-- the amendment's own, keyed by its event id), and WhatsApp's forwarded marks. Any row that knows
-- fills them (inbound-messages and conversation-events both do); max keeps a mark once set.
ALTER TABLE message_facts
    ADD COLUMN IF NOT EXISTS reply_to_message_id SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS target_message_id SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS forwarded SimpleAggregateFunction(max, UInt8),
    ADD COLUMN IF NOT EXISTS frequently_forwarded SimpleAggregateFunction(max, UInt8)
