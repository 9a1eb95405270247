-- The language a conversation's customer writes in, as the offline detector settled it
-- (conversation-event v6, on the inbound message_added whose text made it confident among the
-- tenant's languages: streams/conversations/language.py) and the detector's confidence (0..1).
-- NULL: never confident (short greetings, a tenant without languages) or a language given by the
-- platform. Set once per conversation: `any` of the non-NULL values.
ALTER TABLE conversation_facts
    ADD COLUMN IF NOT EXISTS language SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS language_confidence SimpleAggregateFunction(any, Nullable(Float64))
