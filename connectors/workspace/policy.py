"""The policy views of every thread and portfolio, in memory: `policy-views` read whole, then live.

The topic is compacted and keyed `thread:<thread key>` / `account:<portfolio key>` (policy-view v1;
a tombstone forgets the entry). Every edge replica follows all of it (switchboard.kafka.TopicFollower,
as the directory and the agent feed are followed), indexes the thread views by conversation id, and
answers `GET /api/v1/conversations/{id}/policy` with `answer(thread, account, now)`: the thread view
merged with its portfolio's account view, in the words the page shows.
"""
from __future__ import annotations

import logging
import threading

from schemas import plain, topic
from switchboard.kafka import TopicFollower

log = logging.getLogger("switchboard.workspace")
VIEWS = topic("policy-views")
USABLE = "APPROVED"   # Meta's template status that may be sent (others are listed with theirs)


class PolicyViews:
    """Thread and account views by key, thread views by (tenant, conversation id); fed by `apply`."""

    def __init__(self) -> None:
        self.threads: dict[str, dict] = {}
        self.accounts: dict[str, dict] = {}
        self.by_conversation: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._follower: TopicFollower | None = None

    def start(self, client_config: dict, codec) -> "PolicyViews":
        """Follow the topic from its beginning on a background thread."""
        self._follower = TopicFollower(client_config, VIEWS.name, VIEWS.partitions,
                                       lambda messages: self.apply(_decoded(codec, messages)))
        self._follower.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """True once every partition was read to the end it had at the start (False: not within `timeout`)."""
        return self._follower is not None and self._follower.ready.wait(timeout)

    def close(self) -> None:
        """Stop following."""
        if self._follower is not None:
            self._follower.close()

    def apply(self, entries: list[tuple[str, dict | None]]) -> None:
        """(record key, decoded view or None for a tombstone), in offset order."""
        with self._lock:
            for key, view in entries:
                kind, _, ident = key.partition(":")
                table = self.threads if kind == "thread" else self.accounts if kind == "account" else None
                if table is None:
                    continue
                if view is None:
                    table.pop(ident, None)
                    continue
                table[ident] = view
                if kind == "thread" and view.get("conversation_id"):
                    self.by_conversation[(view["tenant_id"], view["conversation_id"])] = ident

    def thread(self, tenant: str, conversation_id: str) -> dict | None:
        """The thread view of the tenant's conversation (None: none yet, or another tenant's)."""
        with self._lock:
            view = self.threads.get(self.by_conversation.get((tenant, conversation_id), ""))
        return view if view and view.get("tenant_id") == tenant and view.get("conversation_id") == conversation_id \
            else None

    def account(self, tenant: str, portfolio_key: str | None) -> dict | None:
        """The tenant's account view of a portfolio."""
        with self._lock:
            view = self.accounts.get(portfolio_key or "")
        return view if view and view.get("tenant_id") == tenant else None


def _decoded(codec, messages) -> list[tuple[str, dict | None]]:
    entries = []
    for m in messages:
        key = (m.key() or b"").decode()
        try:
            entries.append((key, None if m.value() is None else plain(codec.decode(m.value(), "policy-view"))))
        except Exception as exc:   # the producers' problem, not the page's: skip it, say so
            log.warning("unreadable %s record %d-%d: %s", VIEWS.name, m.partition(), m.offset(), exc)
    return entries


def answer(thread: dict, account: dict | None, now: int) -> dict:
    """What may be sent now: the thread view merged with its portfolio's (GET …/policy)."""
    account = account or {}
    templates = account.get("templates") or []
    return {
        "conversation_id": thread.get("conversation_id"), "thread_key": thread.get("thread_key") or thread["key"],
        "channel": thread.get("channel"), "channel_account_id": thread.get("channel_account_id"),
        "portfolio_key": thread.get("portfolio_key"), "updated_at": thread.get("updated_at"),
        "window": _until(thread.get("window_open_until"), now),
        "template_only": bool(thread.get("template_only")),
        "templates": [_template(t) for t in templates if t.get("status") == USABLE],
        "unusable_templates": [{**_template(t), "status": t.get("status")} for t in templates
                               if t.get("status") != USABLE],
        "tag_required": thread.get("tag_required"), "tag": _until(thread.get("tag_until"), now),
        "replies_left": thread.get("replies_left"),
        "reply_token": _until(thread.get("reply_token_until"), now),
        "quota": _left(account.get("quota_limit"), account.get("quota_used")),
        "daily_cap": _left(account.get("daily_cap"), account.get("daily_sent")),
        "tier": _tier(account) if account.get("messaging_limit_tier") or account.get("tier_limit") else None,
        "budget": {"day_left": account.get("budget_day_left"), "month_left": account.get("budget_month_left"),
                   "currency": account.get("currency")} if account.get("currency") else None,
        "blocked": thread.get("blocked"), "opted_in": bool(thread.get("opted_in")),
        "opted_out": bool(thread.get("opted_out")), "reply_deadline_at": thread.get("reply_deadline_at"),
    }


def _until(at: int | None, now: int) -> dict | None:
    """{until, open, seconds_left} of a time limit (None: the channel has none)."""
    if at is None:
        return None
    return {"until": at, "open": at > now, "seconds_left": max(0, (at - now) // 1000)}


def _left(limit: int | None, used: int | None) -> dict | None:
    if limit is None and used is None:
        return None
    return {"limit": limit, "used": used or 0, "left": None if limit is None else max(0, limit - (used or 0))}


def _tier(account: dict) -> dict:
    limit, used = account.get("tier_limit"), account.get("tier_used") or 0
    return {"name": account.get("messaging_limit_tier"), "limit": limit, "used": used,
            "headroom": None if limit is None else max(0, limit - used), "held": account.get("held") or 0,
            "quality_rating": account.get("quality_rating")}


def _template(t: dict) -> dict:
    return {"name": t["name"], "language": t["language"], "category": t.get("category"),
            "parameters": list(t.get("parameters") or [])}
