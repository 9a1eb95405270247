"""Who the customer is, for the agent: every channel identity and detail of the merged customer, and how
each was matched — from the audited identity decisions (identity_facts, schemas/clickhouse/0010) — and
the names the customer is known by: each identity's display name (identity-event v2, DDL 0015), then the
names their messages were sent under (message_facts.sender_name, DDL 0016).

Parameterized and scoped to the caller's tenant like every workspace read (queries.py). The group of
customers joined by merges is sink.history.members, the same one the history pages through.
"""
from __future__ import annotations

from datetime import datetime

from sink.history import members, sender_names
from switchboard.details import normalize_name

MS = "toUnixTimestamp64Milli"
IDENTITY_SQL = f"""SELECT type, customer_id, merged_customer_id, thread_key, channel, external_id, display_name,
       detail_type, detail_value, candidates, reason, {MS}(occurred_at) AS at
FROM identity_facts FINAL
WHERE tenant_id = {{tenant:String}}
  AND (customer_id IN {{customers:Array(String)}} OR merged_customer_id IN {{customers:Array(String)}})
ORDER BY occurred_at, event_id LIMIT 1000"""
COLUMNS = ("type", "customer_id", "merged_customer_id", "thread_key", "channel", "external_id", "display_name",
           "detail_type", "detail_value", "candidates", "reason", "at")


MERGE_SQL = """SELECT customer_id, merged_customer_id, thread_key, detail_type, detail_value
FROM identity_facts FINAL
WHERE tenant_id = {tenant:String} AND type = 'merged' AND detail_type IS NOT NULL
  AND ((customer_id = {a:String} AND merged_customer_id = {b:String})
    OR (customer_id = {b:String} AND merged_customer_id = {a:String}))
ORDER BY occurred_at DESC LIMIT 1"""


def merge_of(client, tenant: str, a: str, b: str) -> dict | None:
    """The latest merge of customers `a` and `b` (either way round): survivor, absorbed, its detail."""
    rows = client.query(MERGE_SQL, parameters={"tenant": tenant, "a": a, "b": b}).result_rows
    keys = ("customer_id", "merged_customer_id", "thread_key", "detail_type", "detail_value")
    return dict(zip(keys, rows[0])) if rows else None


def customer(client, tenant: str, customer_id: str) -> dict:
    """`{customer_id, customers, names, identities, details, flags, suggestions}` of the customer's merge group."""
    group = members(client, tenant, customer_id)
    rows = client.query(IDENTITY_SQL, parameters={"tenant": tenant, "customers": group}).result_rows
    return summary(group, [dict(zip(COLUMNS, r)) for r in rows], sender_names(client, tenant, group))


def summary(group: list[str], facts: list[dict], sent_as: list[str]) -> dict:
    """The facts (oldest first) folded per channel identity and per detail, with the names; pure."""
    identities: dict[str, dict] = {}
    details: dict[tuple[str, str], dict] = {}
    flags, suggested = [], {}
    for fact in facts:
        how = {"decision": str(fact["type"]), "reason": fact["reason"], "at": _ms(fact["at"])}
        if fact["thread_key"]:
            identity = identities.setdefault(fact["thread_key"], {
                "thread_key": fact["thread_key"], "channel": str(fact["channel"]), "external_id": fact["external_id"],
                "customer_id": fact["merged_customer_id"] or fact["customer_id"], "matched": []})
            identity["matched"].append(how)
            identity["display_name"] = fact.get("display_name") or identity.get("display_name")
            if fact["type"] != "created" or "matched_by" not in identity:
                # the latest decision about it says how it belongs; `created` (one event per customer,
                # re-stamped by each detail it claims) never hides a link or merge of the same instant
                identity["matched_by"] = fact["reason"]
        if fact["detail_type"] and fact["detail_value"]:
            detail = details.setdefault((fact["detail_type"], fact["detail_value"]), {
                "type": fact["detail_type"], "value": fact["detail_value"], "channel": str(fact["channel"]),
                "matched": []})
            detail["matched"].append(how)
            detail["matched_by"] = fact["reason"]
            detail["agent_entered"] = detail.get("agent_entered") or fact["reason"].startswith("agent-entered")
        if fact["type"] == "flagged":
            flags.append(how | {"candidates": list(fact["candidates"] or [])})
        _suggestions(suggested, fact)
    emails = [d["value"] for d in details.values() if d["type"] == "email"]
    phones = [d["value"] for d in details.values() if d["type"] == "phone"]
    names = _distinct([f.get("display_name") for f in facts] + sent_as)
    return {"customer_id": group[0], "customers": group, "names": names, "name": names[0] if names else None,
            "identities": list(identities.values()), "details": list(details.values()), "emails": emails,
            "phones": phones, "flags": flags, "suggestions": list(suggested.values())}


def _suggestions(open_: dict, fact: dict) -> None:
    """Merge suggestions (identity-event v3 `suggested`) no person has answered yet, by claimant and detail."""
    key = (fact["customer_id"], fact["detail_type"], fact["detail_value"])
    if fact["type"] == "suggested":
        open_[key] = {"customer_id": fact["customer_id"], "candidates": list(fact["candidates"] or []),
                      "thread_key": fact["thread_key"], "detail_type": fact["detail_type"],
                      "detail_value": fact["detail_value"], "reason": fact["reason"], "at": _ms(fact["at"])}
    elif fact["type"] in ("merged", "rejected"):
        open_.pop(key, None)
        open_.pop((fact["merged_customer_id"], fact["detail_type"], fact["detail_value"]), None)


def _distinct(names: list[str | None]) -> list[str]:
    """Each name once as first seen; "maria lopez" is "María López" (the matcher's normalize_name)."""
    seen: dict[str, str] = {}
    for name in names:
        if key := normalize_name(name):
            seen.setdefault(key, " ".join(name.split()))
    return list(seen.values())


def _ms(value) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return value
