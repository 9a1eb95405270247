"""The records the account stage produces, built from the outbound and the verdict (no I/O)."""
from __future__ import annotations

import uuid

from channels.refusals import rejection
from schemas import topic

from streams.records import Output

from .decide import Verdict

APPROVED, REJECTED = topic("outbound-approved").name, topic("outbound-rejected").name
STATUSES, VIEWS = topic("delivery-status").name, topic("policy-views").name
NAMESPACE = uuid.UUID("6f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0")   # never change: ids are stored downstream
CATEGORIES = ("marketing", "utility", "authentication")          # outbound-message TemplateCategory


def status_id(outbound_id: str, what: str) -> str:
    """A delivery-status event id of this stage: one per outbound and what happened (held, rejected)."""
    return f"ds-{uuid.uuid5(NAMESPACE, f'{outbound_id}|{what}')}"


def approved(outbound: dict, verdict: Verdict) -> Output:
    """The outbound to deliver (key thread key): category from the catalogue, the estimated price."""
    value = dict(outbound, attributes=dict(outbound.get("attributes") or {}))
    if verdict.category and value.get("template"):
        category = verdict.category if verdict.category in CATEGORIES else "unknown"
        value["template"] = dict(value["template"], category=category)
    if verdict.cost is not None:
        value["attributes"] |= {"price.category": verdict.category or "", "price.amount": str(verdict.cost.amount),
                                "price.currency": verdict.cost.currency}
    return Output(APPROVED, outbound["thread_key"], "outbound-message", value)


def _status(outbound: dict, status: str, now: int, **fields) -> dict:
    return {"event_id": status_id(outbound["outbound_id"], "held" if status == "held" else "account-rejected"),
            "tenant_id": outbound["tenant_id"], "channel": outbound["channel"],
            "channel_account_id": outbound["channel_account_id"], "thread_key": outbound["thread_key"],
            "status": status, "outbound_id": outbound["outbound_id"], "occurred_at": now, **fields}


def rejected(outbound: dict, verdict: Verdict, now: int) -> list[Output]:
    """outbound-rejected (as the thread stage writes it) and a failed delivery-status for the agent."""
    key = outbound["thread_key"]
    failed = _status(outbound, "failed", now, error_code=verdict.rule, error_reason=verdict.reason)
    return [Output(REJECTED, key, "outbound-rejection", rejection(outbound, verdict.rule, verdict.reason, now)),
            Output(STATUSES, key, "delivery-status", failed)]


def held(outbound: dict, verdict: Verdict, now: int) -> Output:
    """The held delivery-status: why, and until when (an estimate)."""
    return Output(STATUSES, outbound["thread_key"], "delivery-status",
                  _status(outbound, "held", now, hold_reason=verdict.reason, hold_until=verdict.hold_until))


def view(portfolio_key: str, value: dict) -> Output:
    """The account's policy view (compacted topic, key `account:<portfolio key>`)."""
    return Output(VIEWS, f"account:{portfolio_key}", "policy-view", value)
