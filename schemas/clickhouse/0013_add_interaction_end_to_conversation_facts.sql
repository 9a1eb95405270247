-- An agent's end + wrap-up closes the interaction (conversation-event v2 `interaction_ended`,
-- reason `agent_ended`) while the conversation stays open for the customer; only the inactivity
-- close sets closed_at (close_reason `inactivity`). So a report tells them apart: ended by an agent
-- = interaction_ended_at IS NOT NULL; closed for inactivity without an agent end = closed_at set
-- and interaction_ended_at NULL. A customer writing again may end a second interaction: max keeps the last.
ALTER TABLE conversation_facts
    ADD COLUMN IF NOT EXISTS interaction_ended_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    ADD COLUMN IF NOT EXISTS interaction_end_reason SimpleAggregateFunction(any, Nullable(String))
