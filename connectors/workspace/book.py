"""The per-agent book: which conversations are offered to, connected to or wrapping up with whom.

Every edge replica builds the same book from `agent-notifications` read from the start of the topic
(then live), so any replica can answer "is this conversation this agent's?" (docs/workspace.md).
Pure: `apply(event, event_id)` with decoded `agent-event` dicts (times in epoch millis).
"""
from __future__ import annotations

from dataclasses import dataclass, field

CARRIED = ("conversation_id", "offer_id", "queue_id", "customer_id", "channel", "thread_key",
           "channel_account_id")
# A wrap-up that nobody finished leaves the book this long after its deadline (time-boxed and
# optional wrap-ups end by themselves in the ACD, streams/routing/wrapup.py, without an event).
WRAPUP_LINGER_MS = 5_000
# The messages the agent was pushed, kept per entry for GET /conversations/{id}/messages (a page
# that reloads); older ones are in the history API.
KEPT_MESSAGES = 200
NOT_MESSAGE = ("history", "policy", "wrapup_codes", "expires_at", "offer_id", "event_id")
# A message's receipt only moves forward (as on the page, static/js/messages.js): statuses of one
# message come from different writers and may arrive out of order — a web visitor's `read` (the
# edge publishes it) before deliver's `sent`, WhatsApp's `delivered` before its `sent`. A failure is final.
RECEIPT_RANK = {"unknown": 0, "held": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 9}


@dataclass
class Entry:
    """One conversation as one agent sees it."""

    state: str                      # offered | connected | ended | wrapup
    since: int                      # when it was offered (the wait the page shows)
    fields: dict
    expires_at: int | None = None   # offer alert timeout, or wrap-up deadline
    unread: int = 0
    policy: dict | None = None
    wrapup_codes: list = field(default_factory=list)
    wrapup_mode: str | None = None
    messages: list = field(default_factory=list)

    def view(self) -> dict:
        """The JSON the API answers with."""
        return {**self.fields, "state": self.state, "waiting_since": self.since, "expires_at": self.expires_at,
                "unread": self.unread, "policy": self.policy, "wrapup_codes": self.wrapup_codes,
                "wrapup_mode": self.wrapup_mode}


@dataclass
class AgentPage:
    """Everything the book knows about one agent."""

    conversations: dict[str, Entry] = field(default_factory=dict)
    presence: str | None = None
    last_event_id: str | None = None


class Book:
    """Offers and conversations per (tenant, agent), from agent-notifications."""

    def __init__(self):
        self.agents: dict[tuple[str, str], AgentPage] = {}

    def page(self, tenant: str, agent: str) -> AgentPage:
        """The agent's page (empty if the book never heard of them)."""
        return self.agents.get((tenant, agent)) or AgentPage()

    def entry(self, tenant: str, agent: str, conversation_id: str, now: int) -> Entry | None:
        """The agent's entry for a conversation, if offered or assigned to them right now."""
        found = self.page(tenant, agent).conversations.get(conversation_id)
        if found and found.state == "wrapup" and found.expires_at and now > found.expires_at + WRAPUP_LINGER_MS:
            return None
        return found

    def conversations(self, tenant: str, agent: str, now: int) -> list[Entry]:
        """The agent's live entries, oldest first."""
        conversations = self.page(tenant, agent).conversations
        live = [e for cid in conversations if (e := self.entry(tenant, agent, cid, now))]
        return sorted(live, key=lambda e: e.since)

    def holders(self, tenant: str, conversation_id: str) -> list[tuple[str, Entry]]:
        """(agent id, entry) of every agent of the tenant the conversation is with."""
        return [(agent, page.conversations[conversation_id]) for (t, agent), page in self.agents.items()
                if t == tenant and conversation_id in page.conversations]

    def apply(self, event: dict, event_id: str) -> None:
        """Fold one agent-notifications event in."""
        page = self.agents.setdefault((event["tenant_id"], event["agent_id"]), AgentPage())
        page.last_event_id = event_id
        kind, cid = event["type"], event.get("conversation_id")
        if kind == "presence_changed":
            page.presence = event.get("presence") or event.get("reason")
            return
        if not cid:
            return
        current = page.conversations.get(cid)
        if kind == "offered":
            page.conversations[cid] = Entry("offered", event["occurred_at"], _carried(event),
                                            expires_at=event.get("expires_at"))
        elif current is None:
            _start_late(page, kind, event)
        else:
            _update(page, current, kind, event)


def _carried(event: dict) -> dict:
    return {name: event.get(name) for name in CARRIED}


def _start_late(page: AgentPage, kind: str, event: dict) -> None:
    """An assignment or transfer-in with no offer before it (a forced or direct transfer)."""
    if kind in ("assigned", "transferred") and event.get("reason") != "transferred_away":
        page.conversations[event["conversation_id"]] = Entry("connected", event["occurred_at"], _carried(event))


def _update(page: AgentPage, entry: Entry, kind: str, event: dict) -> None:
    cid = event["conversation_id"]
    if kind == "offer_revoked" and entry.state == "offered":
        del page.conversations[cid]
    elif kind == "assigned":
        entry.state, entry.expires_at = "connected", None
        entry.fields |= {k: v for k, v in _carried(event).items() if v is not None}
    elif kind == "conversation_ended":
        # A transfer away ends the conversation for this agent without wrap-up (streams/routing/transfers.py).
        if event.get("reason") == "transferred":
            del page.conversations[cid]
        else:
            entry.state = "ended"
    elif kind == "wrapup_required":
        entry.state, entry.expires_at = "wrapup", event.get("expires_at")
        entry.wrapup_codes, entry.wrapup_mode = list(event.get("wrapup_codes") or []), event.get("reason")
    elif kind == "transferred" and event.get("from_agent_id") not in (None, event["agent_id"]):
        entry.fields["transfer_note"] = event.get("note")   # the taker hears from whom: it stays theirs
    elif kind in ("wrapped_up", "transferred") and not (kind == "transferred" and entry.state == "offered"):
        del page.conversations[cid]
    elif kind == "message":
        if event.get("kind") not in ("edit", "unsend"):   # neither is a new message (docs/workspace.md)
            entry.unread = entry.unread + 1 if event.get("direction") == "inbound" else 0
        _keep(entry, event)
    elif kind == "receipt":
        for message in entry.messages:
            if (event.get("message_id") and message.get("message_id") == event["message_id"]
                    and RECEIPT_RANK.get(event.get("status"), 0) >= RECEIPT_RANK.get(message["receipt"], 0)):
                message["receipt"] = event.get("status")
    elif kind == "policy":
        entry.policy = event.get("policy") or {k: event.get(k) for k in ("window_open_until", "template_only",
                                                                          "replies_left")}


def _keep(entry: Entry, event: dict) -> None:
    """Remember a pushed message once (a replayed event has the same message id: kept in place)."""
    # Whole events: the pipeline may carry more of the message (reply, forward, edit) under its own names.
    message = {name: value for name, value in event.items() if name not in NOT_MESSAGE} | {"receipt": None}
    for index, known in enumerate(entry.messages):
        if message.get("message_id") and known.get("message_id") == message["message_id"]:
            entry.messages[index] = message | {"receipt": known["receipt"]}
            return
    entry.messages = entry.messages[-(KEPT_MESSAGES - 1):] + [message]
