-- identity-event v3: where the detail came from (origin: profile, form, text, number_change, agent), the
-- message it was found in, and the person who decided (a confirmed or rejected suggestion, a split).
ALTER TABLE identity_facts
    ADD COLUMN IF NOT EXISTS origin Nullable(String) AFTER reason,
    ADD COLUMN IF NOT EXISTS message_id Nullable(String) AFTER origin,
    ADD COLUMN IF NOT EXISTS actor Nullable(String) AFTER message_id
