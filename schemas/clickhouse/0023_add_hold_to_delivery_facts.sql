-- Holds (delivery-status v3): the account stage keeps a business-initiated message back until the
-- tier, throughput or quota has room, and says so with status `held`, why (`hold_reason`) and when
-- it expects to release it (`hold_until`, an estimate, NULL when unknown). Held messages counted once
-- each: SELECT uniqExact(outbound_id) FROM delivery_facts FINAL WHERE status = 'held'
ALTER TABLE delivery_facts
    ADD COLUMN IF NOT EXISTS hold_reason LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS hold_until Nullable(DateTime64(3, 'UTC'))
