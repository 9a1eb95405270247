"""What an agent may send on a thread now: the thread part of the policy view (policy-view v1,
topic `policy-views` key `thread:<thread key>`) and the agent-event `policy` the agent page shows.

Derived from the channel's declaration, not restated: the window rule (channels/<channel>.py) is
asked about a plain reply at `now`, and its numbers (`standard_hours`, `max_replies_per_inbound`,
Messenger's `human_agent_hours`) give the end of the window, the replies left where the channel
counts them (X: 5 per inbound) and how long a required tag (HUMAN_AGENT) lets a human reply.
"""
from __future__ import annotations

import hashlib
import json

from channels.spec import ChannelSpec
from channels.verdicts import HOUR_MS, Rejected

from . import consent, windows

PROBE = {"kind": "reply", "content": [{"type": "text", "text": "?"}], "template": None}
# The fields of agent-event's PolicyView (v3; v5 adds the last five): the agent page's composer.
AGENT_FIELDS = ("window_open_until", "template_only", "replies_left", "blocked", "reply_token_until",
                "tag_required", "tag_until", "opted_out", "reply_deadline_at")


def thread_view(thread: dict, account, rules: ChannelSpec, now: int) -> dict:
    """The thread part of policy-view v1 at `now` (epoch millis) for the thread's state."""
    window, last = rules.window or {}, thread["last_inbound_at"]
    templates = bool(rules.content.get("template"))
    verdict = None if last is None or account is None else \
        rules.window_rule(PROBE | {"channel": rules.channel}, thread, account, rules.window, now - last)
    closed = last is None or isinstance(verdict, Rejected)
    replies = window.get("max_replies_per_inbound")
    blocked = None
    if account is None:
        blocked = "no enabled account for this thread"
    elif closed and not templates:
        blocked = verdict.reason if isinstance(verdict, Rejected) else "the customer has never written"
    tag = None if closed else getattr(verdict, "messaging_tag", None)
    open_until = windows.window_open_until(thread, rules)
    conv = thread["conversation"]
    return {"thread_key": thread["thread_key"], "channel": thread["channel"],
            "channel_account_id": thread["channel_account_id"],
            "conversation_id": conv and conv["conversation_id"],
            "portfolio_key": account.portfolio_key if account is not None else None,
            "window_open_until": open_until,
            "template_only": closed and templates and account is not None,
            "replies_left": max(0, replies - thread["outbound_since_inbound"]) if replies else None,
            "blocked": blocked, "tag_required": tag,
            "tag_until": last + int(window["human_agent_hours"] * HOUR_MS) if tag == "HUMAN_AGENT" else None,
            "reply_token_until": _reply_token_until(thread, now),
            "opted_in": consent.opted_in(thread), "opted_out": consent.opted_out(thread),
            "reply_deadline_at": open_until if waiting(thread) else None}


def policy_view(thread: dict, account, rules: ChannelSpec, now: int) -> dict:
    """`PolicyView` of agent-event (v3 fields, and v5's): what the agent's composer shows."""
    view = thread_view(thread, account, rules, now)
    return {name: view[name] for name in AGENT_FIELDS}


def record(view: dict, tenant_id: str, now: int) -> dict:
    """A policy-view v1 record (kind thread) of a thread view."""
    return {"kind": "thread", "key": f"thread:{view['thread_key']}", "tenant_id": tenant_id, "updated_at": now,
            **view}


def digest(view: dict) -> str:
    """A short hash of a view: the thread state keeps it, so only a changed view is published."""
    return hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()[:16]


def waiting(thread: dict) -> bool:
    """The customer's last message is unanswered: they wait for a reply."""
    return thread["last_inbound_at"] is not None and thread["outbound_since_inbound"] == 0


def _reply_token_until(thread: dict, now: int) -> int | None:
    token = thread.get("reply_token")
    if token is None or token["used_by"] is not None or now > token["expires_at"]:
        return None
    return token["expires_at"]
