"""The supervisor's ClickHouse reads — parameterized, always scoped to the caller's tenant.

`client` is anything with clickhouse-connect's `query(sql, parameters=…)` (sink/history.py).
"""
from __future__ import annotations

import json

MS = "toUnixTimestamp64Milli"
CONVERSATION_SQL = f"""SELECT conversation_id, thread_key, customer_id, channel, channel_account_id,
       {MS}(started_at) AS started_at, {MS}(closed_at) AS closed_at, close_reason, agents, queues, wrapup_codes
FROM conversation_facts FINAL WHERE tenant_id = {{tenant:String}} AND conversation_id = {{conversation:String}}"""
TIMELINE_SQL = f"""SELECT at, source, kind, agent_id, queue_id, detail FROM (
  SELECT {MS}(occurred_at) AS at, 'assignment' AS source, toString(type) AS kind, agent_id AS agent_id,
         queue_id AS queue_id, reason AS detail, assignment_id AS ref
  FROM assignment_facts FINAL WHERE tenant_id = {{tenant:String}} AND conversation_id = {{conversation:String}}
  UNION ALL
  SELECT {MS}(started_at), 'segment', toString(segment_type), agent_id, queue_id, outcome, fact_id
  FROM segment_facts FINAL WHERE tenant_id = {{tenant:String}} AND conversation_id = {{conversation:String}}
  UNION ALL
  SELECT {MS}(occurred_at), 'message', ifNull(direction, 'unknown'), agent_id, CAST(NULL, 'Nullable(String)'), text,
         message_id
  FROM message_facts FINAL WHERE tenant_id = {{tenant:String}} AND conversation_id = {{conversation:String}}
    AND occurred_at IS NOT NULL)
ORDER BY at, ref LIMIT 2000"""
TIMELINE_COLUMNS = ("at", "source", "kind", "agent_id", "queue_id", "detail")
DECISIONS_SQL = f"""SELECT decision_id, {MS}(occurred_at) AS at, kind, queue_id, agent_id, offer_id, rule,
       matched_words, ring, skills, language, relaxed, priority, reason, candidates, candidates_total, unavailable
FROM routing_decisions FINAL WHERE tenant_id = {{tenant:String}} AND conversation_id = {{conversation:String}}
ORDER BY occurred_at, decision_id LIMIT 500"""
DECISION_COLUMNS = ("decision_id", "at", "kind", "queue_id", "agent_id", "offer_id", "rule", "matched_words", "ring",
                    "skills", "language", "relaxed", "priority", "reason", "candidates", "candidates_total",
                    "unavailable")
# Open conversations no agent has taken yet, by queue: what "waiting now" means in the facts.
WAITING_SQL = f"""SELECT queue_id, count() AS waiting, min({MS}(started_at)) AS oldest FROM (
  SELECT arrayJoin(if(empty(queues), [''], queues)) AS queue_id, started_at
  FROM conversation_facts FINAL
  WHERE tenant_id = {{tenant:String}} AND closed_at IS NULL AND first_assigned_at IS NULL AND started_at IS NOT NULL)
GROUP BY queue_id"""


def conversation(client, tenant: str, conversation_id: str) -> dict | None:
    """The conversation's facts (None when the tenant has no such conversation)."""
    result = client.query(CONVERSATION_SQL, parameters={"tenant": tenant, "conversation": conversation_id})
    rows = result.result_rows
    return {**dict(zip(result.column_names, rows[0])), "state": "closed" if rows[0][6] else "open"} if rows else None


def timeline(client, tenant: str, conversation_id: str) -> list[dict]:
    """Assignments, segments and messages of the conversation, oldest first."""
    rows = client.query(TIMELINE_SQL, parameters={"tenant": tenant, "conversation": conversation_id}).result_rows
    return [dict(zip(TIMELINE_COLUMNS, r)) for r in rows]


def decisions(client, tenant: str, conversation_id: str) -> list[dict]:
    """Every routing decision about the conversation, with its candidates (the offer's explanation)."""
    rows = client.query(DECISIONS_SQL, parameters={"tenant": tenant, "conversation": conversation_id}).result_rows
    found = []
    for row in rows:
        decision = dict(zip(DECISION_COLUMNS, row))
        decision |= {"matched_words": list(decision["matched_words"]), "relaxed": list(decision["relaxed"]),
                     "skills": dict(decision["skills"]), "candidates": _json(decision["candidates"])}
        found.append(decision)
    return found


def waiting(client, tenant: str) -> dict[str, dict]:
    """queue id -> {waiting, oldest (epoch ms)}."""
    rows = client.query(WAITING_SQL, parameters={"tenant": tenant}).result_rows
    return {queue: {"waiting": n, "oldest": oldest} for queue, n, oldest in rows}


def _json(text: str):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


WAITING_LIST_SQL = f"""SELECT conversation_id, if(empty(queues), '', queues[1]) AS queue_id, channel, customer_id,
       {MS}(started_at) AS started_at
FROM conversation_facts FINAL
WHERE tenant_id = {{tenant:String}} AND closed_at IS NULL AND first_assigned_at IS NULL AND started_at IS NOT NULL
ORDER BY started_at LIMIT 1000"""
WAITING_LIST_COLUMNS = ("conversation_id", "queue_id", "channel", "customer_id", "started_at")


def waiting_list(client, tenant: str) -> list[dict]:
    """Open conversations no agent has taken yet, oldest first (at most 1000)."""
    rows = client.query(WAITING_LIST_SQL, parameters={"tenant": tenant}).result_rows
    return [dict(zip(WAITING_LIST_COLUMNS, r)) for r in rows]
