-- What the platforms said about an account (account-event v1, topic `account-events`): template
-- catalogue syncs and status changes, quality rating and messaging-limit tier, LINE quota. One row
-- per event id (deterministic), so a replay replaces. The event's templates are kept as parallel
-- arrays (name, language, category, status at index i) and counted in `template_count`.
CREATE TABLE IF NOT EXISTS account_event_facts
(
    tenant_id            LowCardinality(String),
    event_id             String,
    portfolio_key        String,
    channel              LowCardinality(String),
    channel_account_id   String,
    kind                 LowCardinality(String),
    occurred_at          DateTime64(3, 'UTC'),
    waba_id              Nullable(String),
    template_count       UInt32,
    template_names       Array(String),
    template_languages   Array(String),
    template_categories  Array(LowCardinality(String)),
    template_statuses    Array(LowCardinality(String)),
    quality_rating       LowCardinality(Nullable(String)),
    messaging_limit_tier LowCardinality(Nullable(String)),
    quota_limit          Nullable(Int64),
    quota_used           Nullable(Int64),
    raw_event            Nullable(String),
    attributes           Map(String, String)
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
