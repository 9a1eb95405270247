-- Interaction: one conversation's timeline, oldest first: its segments (queue visits, alerts, participations, wrap-ups, open ones included), its messages and routing's decisions about it.
-- Read by the conversation, not FINAL over the tenant: each segment's latest version, each message merged from the rows of its id (message_facts: partial rows, any / min as the table merges them), each decision once.
SELECT at, source, kind, agent_id, queue_id, ended_at,
       dateDiff('millisecond', at, ended_at) / 1000 AS duration_s, outcome, detail, ref
FROM (
  SELECT started_at AS at, 'segment' AS source, toString(segment_type) AS kind, agent_id, queue_id,
         ended_at, outcome, coalesce(wrapup_code, transfer_target, wrapup_note) AS detail, fact_id AS ref
  FROM (SELECT * FROM segment_facts WHERE tenant_id = {tenant:String} AND conversation_id = {conversation:String}
        ORDER BY version DESC LIMIT 1 BY fact_id)
  UNION ALL
  SELECT assumeNotNull(occurred_at), 'message', ifNull(direction, 'unknown'), agent_id, queue_id,
         CAST(NULL AS Nullable(DateTime64(3, 'UTC'))), sender_kind, text, message_id
  FROM (SELECT message_id, any(conversation_id) AS conversation_id, min(occurred_at) AS occurred_at,
               any(direction) AS direction, any(agent_id) AS agent_id, any(queue_id) AS queue_id,
               any(sender_kind) AS sender_kind, any(text) AS text
        FROM message_facts WHERE tenant_id = {tenant:String} AND message_id IN (
            SELECT message_id FROM message_facts WHERE tenant_id = {tenant:String} AND conversation_id = {conversation:String})
        GROUP BY message_id)
  WHERE conversation_id = {conversation:String} AND occurred_at IS NOT NULL
  UNION ALL
  SELECT occurred_at, 'decision', toString(kind), agent_id, queue_id, CAST(NULL AS Nullable(DateTime64(3, 'UTC'))),
         nullIf(reason, ''), rule, decision_id
  FROM (SELECT * FROM routing_decisions WHERE tenant_id = {tenant:String} AND conversation_id = {conversation:String}
        LIMIT 1 BY occurred_at, decision_id))
ORDER BY at, source, ref
LIMIT {limit:UInt32}
