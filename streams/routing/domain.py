"""One routing domain's ACD state: a plain holder that the move modules change.

`Domain` holds agents, conversations, finished-conversation tombstones, per-queue wait lists,
indexes (queue members, agents with capacity left per media type, conversations reserved for an
agent), the timer heap, the records produced since the last drain and the entities changed since
the state table was last written (`Changes`). It does no I/O and has no behaviour of its own:
the functions of `roster`, `queueing`, `matching`, `offers`, `presence`, `wrapup`, `transfers`,
`requests` and `timers` take it as their first argument.
"""
from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from streams.records import Output

from . import outputs as out
from .config import RoutingConfig
from .model import AgentState, Conversation
from .waitlist import WaitList


@dataclass
class Changes:
    """Ids of the entities changed since the state table was last written, by kind."""

    agents: set[str] = field(default_factory=set)
    conversations: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    domain: bool = False  # the domain clock moved

    def clear(self) -> None:
        """Forget every change (they were written)."""
        self.agents.clear()
        self.conversations.clear()
        self.finished.clear()
        self.domain = False


@dataclass(eq=False)
class Domain:
    """The ACD state of one tenant (see module docstring)."""

    config: RoutingConfig
    now: int = 0
    presence_grace_ms: int = 60_000  # a gone page's grace (settings.presence_grace_seconds)
    tenant: str = field(init=False)
    agents: dict[str, AgentState] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    finished: dict[str, dict] = field(default_factory=dict)  # tombstones: replayed requests are recognised
    waiting: dict[str, WaitList] = field(default_factory=lambda: defaultdict(WaitList))
    reserved: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    members: dict[str, set[str]] = field(default_factory=dict)  # queue -> agents of the routing file
    open: dict[str, set[str]] = field(default_factory=dict)  # media -> on-queue agents with capacity left
    # (queue, skills, language) -> the members who meet them, most proficient first, and those who do not
    # (matching.by_skill: built on first use, dropped with the other indexes when the routing file changes)
    skilled: dict[tuple, tuple[list[tuple[int, str]], list[str]]] = field(default_factory=dict)
    timers: list[tuple] = field(default_factory=list)  # heap of (due, seq, kind, args)
    seq: Iterator[int] = field(default_factory=itertools.count)
    last_prune: int = 0
    changed: Changes = field(default_factory=Changes)
    outputs: list[Output] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tenant = self.config.tenant


def touch(domain: Domain, conv: Conversation) -> None:
    """Mark a conversation changed."""
    domain.changed.conversations.add(conv.conversation_id)


def media(domain: Domain, conv: Conversation) -> str:
    """The media type of a conversation (another system's work names its own)."""
    return conv.media or domain.config.media_of(conv.channel)


def at(domain: Domain, due: int, kind: str, *args) -> None:
    """Schedule a timeout of `kind` (a key of `timers.TIMERS`); stale ones are recognised when they fire."""
    heapq.heappush(domain.timers, (due, next(domain.seq), kind, args))


def decide(domain: Domain, kind: str, reason: str, **fields) -> None:
    """Record a routing decision (audit) of `kind` at the domain's time."""
    domain.outputs.append(out.decision(domain.tenant, kind, domain.now, reason, **fields))


def notify(domain: Domain, agent_id: str, kind: str, **fields) -> None:
    """Tell an agent what happened (an agent-notifications record) at the domain's time."""
    domain.outputs.append(out.agent_event(domain.tenant, agent_id, kind, domain.now, **fields))


def refuse(domain: Domain, agent_id: str, action: dict, rule: str, reason: str, **fields) -> None:
    """An action routing will not apply: told to the agent (`action_refused`), recorded as ignored."""
    decide(domain, "ignored", f"{action['type']} refused: {reason}", agent_id=agent_id, **fields)
    domain.outputs.append(out.agent_event(domain.tenant, agent_id, "action_refused", domain.now,
                                          ref=action["action_id"], rule=rule, reason=reason,
                                          conversation_id=action.get("conversation_id"),
                                          actor_id=action.get("actor_id")))
