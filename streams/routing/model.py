"""The ACD's mutable entities: agents' routing state and conversations. Times are epoch millis.

Each entity is one table key (`agent:<id>`, `conv:<id>`), small enough to be rewritten on every
change. Static profiles (skills, queues, capacity) are not stored: they come from the tenant's
routing file, so a reload changes them without touching state.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Conversation states inside routing.
WAITING, ALERTING, CONNECTED, WRAPUP = "waiting", "alerting", "connected", "wrapup"
# Presence values routing knows (agent-action Presence) plus routing's own not_responding.
ON_QUEUE, OFFLINE, NOT_RESPONDING = "on_queue", "offline", "not_responding"
RECENT_IDS = 64  # recently applied action/request ids kept per entity (replays after kill -9)


@dataclass
class Work:
    """One conversation on an agent (keyed by offer id): alerting, connected or in wrap-up.

    It carries what the assignment and segment records need, so wrap-up outlives the
    conversation's routing record (the customer may write again while the agent wraps up).
    """

    conversation_id: str
    media: str
    state: str
    since: int
    offer_id: str
    queue_id: str
    thread_key: str
    channel: str
    channel_account_id: str
    customer_id: str | None = None
    deadline: int | None = None  # alert expiry or wrap-up expiry
    holds_capacity: bool = True  # optional wrap-up releases capacity at once
    source: str | None = None  # another system's work (work.py): the system that told routing


@dataclass
class AgentState:
    """An agent's presence and current work."""

    agent_id: str
    presence: str = OFFLINE
    presence_since: int = 0
    last_free_at: int = 0  # for longest-idle ordering: when the agent last gained capacity
    work: dict[str, Work] = field(default_factory=dict)
    recent_actions: list[str] = field(default_factory=list)
    page_closed_at: int | None = None  # their page went away then; offline unless it opens within the grace

    def held(self, media: str) -> int:
        """Conversations of `media` that count against capacity."""
        return sum(1 for w in self.work.values() if w.holds_capacity and w.media == media)

    def active(self) -> int:
        """Conversations this agent is handling or being offered (for fewest-active ranking)."""
        return sum(1 for w in self.work.values() if w.holds_capacity) if self.work else 0

    def to_dict(self) -> dict:
        """Plain data for the state table."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AgentState":
        """Back from the state table."""
        work = {k: Work(**v) for k, v in data.get("work", {}).items()}
        return cls(**{**data, "work": work})


@dataclass
class Conversation:
    """A conversation routing is responsible for, from the request to the end of wrap-up."""

    conversation_id: str
    thread_key: str
    channel: str
    channel_account_id: str
    customer_id: str | None
    queue_id: str
    skills: dict[str, int]
    language: str | None
    priority: int
    rule: str | None
    entered_at: int  # queue entry; kept when an offer is declined or times out (original place)
    status: str = WAITING
    entry: int = 1  # queue entries so far (a transfer is a new entry)
    agent_id: str | None = None  # alerting or connected agent
    offer_id: str | None = None
    offers: int = 0
    offer_at: int | None = None
    connected_at: int | None = None
    reserved_for: str | None = None  # last agent / transfer target the conversation waits for
    reserved_until: int | None = None
    reserve_reason: str | None = None
    consulting_agent: str | None = None  # consult transfer: still connected until the new one accepts
    consulting_offer: str | None = None
    transfer_mode: str | None = None
    transfer_note: str | None = None  # told to the agent who takes the transferred conversation
    transfer_from: str | None = None
    history: list[dict] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    reply_deadline_at: int | None = None  # the customer's free-reply window closes then (deadlines.py)
    template_only: bool = False  # the request said only a template may answer
    media: str | None = None  # another system's requested work (work.py): its media; None: the channel's
    source: str | None = None  # that system (its assignments go to work-assignments)

    def to_dict(self) -> dict:
        """Plain data for the state table."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Conversation":
        """Back from the state table."""
        return cls(**data)


def remember(ids: list[str], new_id: str) -> None:
    """Add an applied id, keeping the most recent RECENT_IDS."""
    ids.append(new_id)
    del ids[:-RECENT_IDS]
