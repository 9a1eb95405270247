"""account-event v1 records (schemas/avro/account-event): what a platform says about a channel
account — its template catalogue and template status changes, the number's quality rating and
messaging-limit tier, LINE's monthly quota. Published to `account-events`, keyed by the account's
portfolio key (`ChannelAccount.portfolio_key`), by the edge (webhooks) and by deliver (the sync)."""
from __future__ import annotations

import json

from .normalize import enum, event_id, symbol

KINDS = enum("account-event", "AccountEventKind")[0]
CATEGORIES = ("marketing", "utility", "authentication")  # Meta sends them upper case; the pricing uses lower


def account_event(account, *, kind: str, occurred_at: int, says, **fields) -> dict:
    """An account-event record for `account`; its event_id is uuid5 over the account, the kind and
    `says` (what the event says: the platform's payload, or the synced values and their time), so a
    redelivered webhook gives the same id. A kind the schema does not know is `other`, the word
    kept as attribute `raw_kind`."""
    raw, kind = kind, symbol(kind, "account-event", "AccountEventKind")
    if raw != kind:
        fields["attributes"] = {**(fields.get("attributes") or {}), "raw_kind": raw}
    said = json.dumps(says, sort_keys=True, separators=(",", ":"), default=str)
    return {"event_id": event_id("ae", account.channel, account.account_id, kind, said),
            "tenant_id": account.tenant_id, "portfolio_key": account.portfolio_key,
            "channel": account.channel, "channel_account_id": account.account_id, "kind": kind,
            "occurred_at": occurred_at, "waba_id": fields.get("waba_id"),
            "templates": fields.get("templates") or [],
            "quality_rating": fields.get("quality_rating"), "messaging_limit_tier": fields.get("messaging_limit_tier"),
            "quota_limit": fields.get("quota_limit"), "quota_used": fields.get("quota_used"),
            "raw_event": fields.get("raw_event"),
            "attributes": {k: str(v) for k, v in (fields.get("attributes") or {}).items() if v not in (None, "")}}


def template(name: str, language: str, category: str | None, status: str, parameters=(), id_=None) -> dict:
    """A TemplateDefinition: category lower case when it is one of Meta's three, status upper case,
    language as the send API writes it (en_US; some webhooks write en-US)."""
    raw = (category or "").strip()
    return {"name": str(name), "language": str(language).replace("-", "_"),
            "category": raw.lower() if raw.lower() in CATEGORIES else raw,
            "status": str(status).upper(), "parameters": [str(p) for p in parameters],
            "id": str(id_) if id_ not in (None, "") else None}


def flat(value, prefix: str = "") -> dict[str, str]:
    """A payload's scalar leaves as attributes (`ban_info.waba_ban_state`), lists as JSON."""
    out: dict[str, str] = {}
    for key, item in (value or {}).items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            out |= flat(item, f"{name}.")
        elif isinstance(item, list):
            out[name] = json.dumps(item, sort_keys=True, separators=(",", ":"))
        elif item is not None:
            out[name] = str(item)
    return out
