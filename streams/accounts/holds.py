"""Held messages: kept in the portfolio's state in arrival order, released by a later tick (or an
account event) when the rule that held them lets them go — each decided again at release, so a
template paused meanwhile is refused then, and a free-form reply held past its window too."""
from __future__ import annotations

from collections.abc import Callable

from . import outputs
from .decide import MAX_HELD, Context, Verdict, admit, verdict
from .state import remember

ContextOf = Callable[[dict], Context]


def decided(state: dict, outbound: dict, ctx: Context, result: Verdict, now: int) -> list:
    """Apply a verdict on a message not held (any more): count an approval, remember the id."""
    remember(state, outbound["outbound_id"], now)
    if result.action == "approve":
        admit(state, outbound, ctx, result, now)
        return [outputs.approved(outbound, result)]
    return outputs.rejected(outbound, result, now)


def keep(state: dict, outbound: dict, result: Verdict, now: int) -> list:
    """Hold a new message (its held status), or refuse it when the portfolio holds too many."""
    if len(state["held"]) >= MAX_HELD:
        full = Verdict("reject", "limit.held_full", f"{MAX_HELD} messages are already held for this account "
                                                    f"(the last: {result.reason})")
        remember(state, outbound["outbound_id"], now)
        return outputs.rejected(outbound, full, now)
    state["held"].append({"outbound_id": outbound["outbound_id"], "thread_key": outbound["thread_key"],
                          "channel_account_id": outbound["channel_account_id"], "rule": result.rule,
                          "hold_reason": result.reason, "held_at": now, "hold_until": result.hold_until,
                          "outbound": outbound})
    return [outputs.held(outbound, result, now)]


def release(state: dict, context_of: ContextOf, now: int) -> list:
    """Every held message that may go now, oldest first; the others stay, in order."""
    kept, produced = [], []
    for entry in state["held"]:
        outbound = entry["outbound"]
        ctx = context_of(outbound)
        result = verdict(state, outbound, ctx, now, ahead=kept)
        if result.action == "hold":
            kept.append(entry)
        else:
            produced += decided(state, outbound, ctx, result, now)
    state["held"] = kept
    return produced
