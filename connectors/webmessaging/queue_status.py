"""Where a waiting visitor stands: position in the queue and an estimated wait, from the facts.

The edge reads what the supervisor view reads (`connectors/workspace/queries.py` WAITING_SQL): open
conversations no agent has taken yet. The estimate is the queue's recent average wait for an
agent times the position, or a minute per place before anything was measured.
"""
from __future__ import annotations

import math

MS = "toUnixTimestamp64Milli"
OWN_SQL = f"""SELECT conversation_id, {MS}(started_at) AS started, queues, first_assigned_at IS NULL AS waiting
FROM conversation_facts FINAL
WHERE tenant_id = {{tenant:String}} AND thread_key = {{thread:String}} AND closed_at IS NULL
ORDER BY started_at DESC LIMIT 1"""
AHEAD_SQL = f"""SELECT count() FROM conversation_facts FINAL
WHERE tenant_id = {{tenant:String}} AND closed_at IS NULL AND first_assigned_at IS NULL AND started_at IS NOT NULL
  AND {MS}(started_at) <= {{started:Int64}}
  AND (empty({{queues:Array(String)}}) OR hasAny(queues, {{queues:Array(String)}}))"""
WAIT_SQL = f"""SELECT avg({MS}(first_assigned_at) - {MS}(started_at)) / 1000 FROM conversation_facts FINAL
WHERE tenant_id = {{tenant:String}} AND first_assigned_at IS NOT NULL
  AND first_assigned_at > now64(3) - INTERVAL 1 HOUR
  AND (empty({{queues:Array(String)}}) OR hasAny(queues, {{queues:Array(String)}}))"""
DEFAULT_WAIT_S = 60.0


def queue_status(client, tenant: str, thread: str) -> dict | None:
    """`{position, estimatedWaitSeconds, conversationId}` while the thread's conversation waits, else None."""
    rows = client.query(OWN_SQL, parameters={"tenant": tenant, "thread": thread}).result_rows
    if not rows or not rows[0][3] or rows[0][1] is None:
        return None
    conversation_id, started, queues, _waiting = rows[0]
    params = {"tenant": tenant, "started": started, "queues": list(queues)}
    position = max(1, int(client.query(AHEAD_SQL, parameters=params).result_rows[0][0]))
    average = client.query(WAIT_SQL, parameters={"tenant": tenant, "queues": list(queues)}).result_rows
    measured = average[0][0] if average else None
    per_place = DEFAULT_WAIT_S if measured is None or math.isnan(measured) or measured <= 0 else measured
    return {"position": position, "estimatedWaitSeconds": int(round(per_place * position)),
            "conversationId": conversation_id}
