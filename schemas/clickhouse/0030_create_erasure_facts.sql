-- Every erasure of a customer (`switchboard admin erase-customer`, issue 15 item 6): who asked,
-- when, which customer ids (internal, pseudonymous) and how much was erased where. No personal
-- data: no detail, thread key, name or text is kept, only counts. Keyed by the erasure id.
--   Which erasures ran for this tenant, and what did each remove?
--   SELECT erased_at, requested_by, customers, messages, media, tombstones FROM erasure_facts FINAL
--   WHERE tenant_id = 'acme' ORDER BY erased_at
CREATE TABLE IF NOT EXISTS erasure_facts
(
    tenant_id      LowCardinality(String),
    erasure_id     String,
    customer_id    String,
    customers      Array(String),
    requested_by   String,
    erased_at      DateTime64(3, 'UTC'),
    threads        UInt32,
    details        UInt32,
    conversations  UInt32,
    messages       UInt32,
    media          UInt32,
    tombstones     UInt32,
    rows_deleted   UInt64,
    tables         Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, erasure_id)
