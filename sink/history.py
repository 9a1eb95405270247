"""A customer's history: every message of the customer and of every customer merged with it,
across conversations and channels, newest first, keyset-paginated back to the very first.

`client` is anything with clickhouse-connect's `query(sql, parameters=…)` (a clickhouse-connect
client, or the sink's own store). The cursor is `<occurred_at ms>:<message id>` of the last
message of a page; pass it as `before` for the next (older) page.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

MAX_LIMIT = 500
MAX_MERGE_DEPTH = 32  # merge groups are small; the bound only guards against runaway data

# Merge edges touching any of the given customers, in both directions: a customer merged twice
# (its email matched A, its phone matched B — decided on different partitions) joins A and B.
NEIGHBOURS_SQL = """SELECT merged_customer_id FROM customer_merges
WHERE tenant_id = {tenant:String} AND customer_id IN {customers:Array(String)}
UNION ALL SELECT customer_id FROM customer_merges
WHERE tenant_id = {tenant:String} AND merged_customer_id IN {customers:Array(String)}"""
MESSAGE_COLUMNS = ("message_id", "occurred_ms", "direction", "channel", "channel_account_id",
                   "conversation_id", "customer_id", "kind", "text", "content_types", "agent_id",
                   "sender_name", "content")
# A message's customer is the one its conversation event named, else its conversation's, else the
# customer its thread is linked to (outbound messages and not-yet-threaded inbound ones).
MESSAGES_OF_GROUP = """FROM (SELECT * FROM message_facts FINAL WHERE tenant_id = {tenant:String}) AS m
LEFT JOIN (SELECT conversation_id, customer_id FROM conversation_facts FINAL
           WHERE tenant_id = {tenant:String}) AS c ON m.conversation_id = c.conversation_id
LEFT JOIN (SELECT thread_key, customer_id FROM customer_links WHERE tenant_id = {tenant:String}) AS l
    ON m.thread_key = l.thread_key
WHERE coalesce(m.customer_id, c.customer_id, l.customer_id) IN {customers:Array(String)}"""
# The names the group's inbound messages were sent under, first used first (connectors/workspace/customers.py).
SENDER_NAMES_SQL = f"""SELECT m.sender_name AS name, min(m.occurred_at) AS first_at
{MESSAGES_OF_GROUP}
  AND m.sender_name IS NOT NULL AND m.direction = 'inbound'
GROUP BY name ORDER BY first_at, name LIMIT 20"""


def history_sql(paged: bool) -> str:
    """The page query: messages whose customer is a member (MESSAGES_OF_GROUP)."""
    before = ("AND (toUnixTimestamp64Milli(m.occurred_at), m.message_id) "
              "< ({before_ms:Int64}, {before_id:String})") if paged else ""
    return f"""SELECT m.message_id AS message_id, toUnixTimestamp64Milli(m.occurred_at) AS occurred_ms,
       m.direction AS direction, m.channel AS channel, m.channel_account_id AS channel_account_id,
       m.conversation_id AS conversation_id,
       coalesce(m.customer_id, c.customer_id, l.customer_id) AS customer_id,
       m.kind AS kind, m.text AS text, m.content_types AS content_types, m.agent_id AS agent_id,
       m.sender_name AS sender_name, m.content AS content
{MESSAGES_OF_GROUP}
  AND m.occurred_at IS NOT NULL {before}
ORDER BY m.occurred_at DESC, m.message_id DESC
LIMIT {{limit:UInt32}}"""


def parse_cursor(cursor: str) -> tuple[int, str]:
    """`<ms>:<message id>` -> (ms, id); ValueError on anything else."""
    ms, sep, message_id = cursor.partition(":")
    if not sep or not message_id:
        raise ValueError(f"bad cursor {cursor!r}: expected <epoch ms>:<message id>")
    return int(ms), message_id


def members(client, tenant: str, customer_id: str) -> list[str]:
    """Every customer joined to this one by merges, whichever way each merge pointed."""
    found, frontier = {customer_id}, [customer_id]
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        rows = client.query(NEIGHBOURS_SQL, parameters={"tenant": tenant, "customers": frontier}).result_rows
        frontier = sorted({r[0] for r in rows} - found)
        found.update(frontier)
    return sorted(found)


def to_message(row: tuple) -> dict:
    """One result row as the API's JSON message."""
    message = dict(zip(MESSAGE_COLUMNS, row))
    at = datetime.fromtimestamp(message["occurred_ms"] / 1000, timezone.utc)
    message["occurred_at"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message["content_types"] = list(message["content_types"])
    # The items as the pipeline carried them (DDL 0016); messages stored before it have none.
    message["content"] = json.loads(message["content"]) if message["content"] else []
    return message


def sender_names(client, tenant: str, group: list[str]) -> list[str]:
    """The names the group's messages were sent under, oldest first."""
    rows = client.query(SENDER_NAMES_SQL, parameters={"tenant": tenant, "customers": group}).result_rows
    return [r[0] for r in rows]


def history(client, tenant: str, customer_id: str, before: str | None = None, limit: int = 50) -> dict:
    """One page of the customer's history, newest first; `next` is the cursor of the older page."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    group = members(client, tenant, customer_id)
    # Merges always keep the smaller customer id (streams/identity), so it names the whole group.
    root = group[0]
    params = {"tenant": tenant, "customers": group, "limit": limit + 1}
    if before:
        params["before_ms"], params["before_id"] = parse_cursor(before)
    rows = client.query(history_sql(bool(before)), parameters=params).result_rows
    page = [to_message(r) for r in rows[:limit]]
    last = page[-1] if len(rows) > limit else None
    return {"tenant": tenant, "customer_id": root, "customers": params["customers"], "messages": page,
            "next": f"{last['occurred_ms']}:{last['message_id']}" if last else None}
