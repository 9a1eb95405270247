"""The account stage's state (table `policy_by_account`, subject `account-state`) and its helpers.

Plain dicts shaped like the Avro record; times are epoch millis, amounts decimal strings. A held
message keeps its outbound as a dict here; the codec stores it as Avro bytes (`StateCodec`).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import NamedTuple

from schemas import Codec

SUBJECT, OUTBOUND = "account-state", "outbound-message"
DAY_MS = 86_400_000
SEEN_TTL_MS, SEEN_LIMIT = 3_600_000, 4096   # replays and sequencer duplicates come within minutes


class Step(NamedTuple):
    """What applying one record did: the new state and the records to produce."""

    state: dict
    outputs: list
    duplicate: bool = False


def new_state(portfolio_key: str, tenant_id: str, partition: int, at: int) -> dict:
    """The state of a portfolio seen for the first time."""
    return {"tenant_id": tenant_id, "portfolio_key": portfolio_key, "partition": partition, "clock": at,
            "configured_tier": None, "tier": None, "quality_rating": None, "tier_changed_at": None,
            "recipients": [], "catalogues": [], "held": [], "pace": [], "line": [], "x": [],
            "spend_day": None, "spent_day": "0", "spend_month": None, "spent_month": "0", "currency": None,
            "budget_daily": None, "budget_monthly": None, "seen": [], "view_hash": None}


def working_copy(state: dict | None, portfolio_key: str, tenant_id: str, partition: int, at: int) -> dict:
    """A deep copy to change (or a new state), its clock moved to `at` (it never goes back)."""
    state = copy.deepcopy(state) if state is not None else new_state(portfolio_key, tenant_id, partition, at)
    state["clock"], state["partition"] = max(state["clock"], at), partition
    return state


def day_of(at: int) -> str:
    """The UTC day of `at` (YYYY-MM-DD)."""
    return datetime.fromtimestamp(at / 1000, timezone.utc).strftime("%Y-%m-%d")


def month_of(at: int) -> str:
    """The UTC month of `at` (YYYY-MM)."""
    return day_of(at)[:7]


def entry(items: list[dict], account_id: str, **defaults) -> dict:
    """The entry of `account_id` in a per-account list, created with `defaults` when missing."""
    found = next((e for e in items if e["channel_account_id"] == account_id), None)
    if found is None:
        found = {"channel_account_id": account_id, **defaults}
        items.append(found)
    return found


def live_recipients(state: dict, now: int) -> list[dict]:
    """Recipients counted within the rolling 24 h before `now`."""
    return [r for r in state["recipients"] if r["counted_at"] > now - DAY_MS]


def seen(state: dict, outbound_id: str) -> bool:
    """True when the outbound was decided recently or is held."""
    return any(s["id"] == outbound_id for s in state["seen"]) or any(h["outbound_id"] == outbound_id for h in state["held"])


def remember(state: dict, outbound_id: str, at: int) -> None:
    """Record a decision; forget those older than the TTL (bounded state)."""
    kept = [s for s in state["seen"] if s["at"] > at - SEEN_TTL_MS] + [{"id": outbound_id, "at": at}]
    state["seen"] = kept[-SEEN_LIMIT:]


def prune(state: dict, now: int) -> None:
    """Drop what no rule reads any more: recipients out of the 24 h, pacing of past seconds."""
    state["recipients"] = live_recipients(state, now)
    state["pace"] = [p for p in state["pace"] if p["second"] >= now // 1000]


class StateCodec:
    """Table values as Avro (the changelog's subject); held outbounds as outbound-message bytes."""

    def __init__(self, codec: Codec):
        self._codec = codec

    def dumps(self, state: dict) -> bytes:
        """The state as an Avro event of `account-state`."""
        held = [h | {"outbound": self._codec.encode(OUTBOUND, h["outbound"])} for h in state["held"]]
        return self._codec.encode(SUBJECT, state | {"held": held})

    def loads(self, data: bytes | None) -> dict | None:
        """The state, or None for a missing entry."""
        if data is None:
            return None
        state = self._codec.decode(data, SUBJECT)
        state["held"] = [h | {"outbound": self._codec.decode(h["outbound"], OUTBOUND)} for h in state["held"]]
        return state
