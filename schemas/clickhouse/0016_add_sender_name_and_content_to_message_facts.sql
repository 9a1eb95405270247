-- Who sent an inbound message as the platform names them (the sender Identity's display name, else
-- first and last name), and the message's content items as JSON (ContentItem fields, nulls left out),
-- so an earlier conversation's image, sticker, location, contact or order can be shown again: the
-- page signs media items by media_key, or fetches a platform media_id / url on demand
-- (connectors/workspace/page_media.py). Every row that carries the content writes the same JSON.
ALTER TABLE message_facts
    ADD COLUMN IF NOT EXISTS sender_name SimpleAggregateFunction(any, Nullable(String)),
    ADD COLUMN IF NOT EXISTS content SimpleAggregateFunction(any, Nullable(String))
