"""What an agent may send on a thread now: the policy view the agent page shows (agent-event `policy`).

Derived from the channel's declaration, not restated: the window rule (channels/<channel>.py) is
asked about a plain reply at `now`, and its numbers (`standard_hours`, `max_replies_per_inbound`)
give the end of the window and the replies left where the channel counts them (X: 5 per inbound).
"""
from __future__ import annotations

from channels.spec import ChannelSpec
from channels.verdicts import HOUR_MS, Rejected

PROBE = {"kind": "reply", "content": [{"type": "text", "text": "?"}], "template": None}


def policy_view(thread: dict, account, rules: ChannelSpec, now: int) -> dict:
    """`PolicyView` (agent-event v3): window open until, template only, replies left, blocked."""
    window, last = rules.window or {}, thread["last_inbound_at"]
    templates = bool(rules.content.get("template"))
    verdict = None if last is None or account is None else \
        rules.window_rule(PROBE | {"channel": rules.channel}, thread, account, rules.window, now - last)
    closed = last is None or isinstance(verdict, Rejected)
    hours = window.get("standard_hours")
    replies = window.get("max_replies_per_inbound")
    blocked = None
    if account is None:
        blocked = "no enabled account for this thread"
    elif closed and not templates:
        blocked = verdict.reason if isinstance(verdict, Rejected) else "the customer has never written"
    return {"window_open_until": last + int(hours * HOUR_MS) if last is not None and hours else None,
            "template_only": closed and templates and account is not None,
            "replies_left": max(0, replies - thread["outbound_since_inbound"]) if replies else None,
            "blocked": blocked}
