"""The account part of the policy view (policy-view v1, kind account): what a portfolio may send
now — tier and headroom, held messages, LINE quota, X daily count, budgets left, templates."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from .decide import effective_tier, line_used
from .state import day_of, live_recipients
from .tenants import spent
from .tiers import Ladders, tiers


def account_view(state: dict, portfolio_key: str, now: int, ladders: Ladders | None = None) -> dict:
    """The policy view of a portfolio's state at `now` (policy-view v1 fields, kind account)."""
    tier = effective_tier(state)
    line = state["line"][0] if state["line"] else None
    x = state["x"][0] if state["x"] else None
    day, month = spent(state, now)
    return {"kind": "account", "key": portfolio_key, "tenant_id": state["tenant_id"], "updated_at": now,
            "channel": _channel(state), "channel_account_id": None, "portfolio_key": portfolio_key,
            "quality_rating": state["quality_rating"], "messaging_limit_tier": tier,
            "tier_limit": (ladders or tiers()).limit(tier, now) if tier else None,
            "tier_used": len(live_recipients(state, now)), "held": len(state["held"]),
            "quota_limit": _line_limit(line), "quota_used": line_used(line, now) if line else None,
            "daily_cap": x["cap"] if x else None, "daily_sent": (x["sent"] if x["day"] == day_of(now) else 0) if x else None,
            "budget_day_left": _left(state["budget_daily"], day), "budget_month_left": _left(state["budget_monthly"], month),
            "currency": state["currency"],
            "templates": [{k: t[k] for k in ("name", "language", "category", "status", "parameters")}
                          for c in state["catalogues"] for t in c["templates"]]}


def _channel(state: dict) -> str | None:
    """The portfolio's channel when it has one (WhatsApp tiers, LINE quota or X caps), else None."""
    seen = [c for c, present in (("whatsapp", state["configured_tier"] or state["tier"] or state["catalogues"]),
                                 ("line", state["line"]), ("x", state["x"])) if present]
    return seen[0] if len(seen) == 1 else None


def _line_limit(line: dict | None) -> int | None:
    if line is None:
        return None
    return line["configured_limit"] if line["configured_limit"] is not None else line["synced_limit"]


def _left(budget: str | None, used: Decimal) -> str | None:
    return None if budget is None else str(max(Decimal(budget) - used, Decimal(0)))


def view_hash(view: dict) -> str:
    """A hash of what the view says (its time left out): a new view is produced when it changes."""
    said = {k: v for k, v in view.items() if k != "updated_at"}
    return hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()[:16]
