"""The domain clock: timeouts fire in due order at their own time, through one table of kinds.

A timer is `(due, seq, kind, args)` on the domain's heap (scheduled by `domain.at`); its handler is
`TIMERS[kind](domain, *args)`. Timers are never cancelled: a handler recognises a stale one (the
offer was answered, the reservation released, the ring's entry is over) and does nothing.
"""
from __future__ import annotations

import heapq

from .configured import announce
from .deadlines import on_deadline_timer
from .domain import Domain, decide
from .flowout import on_flow_out_timeout
from .matching import route
from .model import ALERTING, WAITING
from .offers import on_alert_timeout
from .presence import on_grace_timeout
from .queueing import needs, schedule_ring, unreserve
from .requests import on_silence_timeout
from .wrapup import on_acw_timeout


def on_reserve_timeout(domain: Domain, conv_id: str, until: int) -> None:
    """Timer `reserve`: the wait for the last agent or transfer target is over: route to anyone."""
    conv = domain.conversations.get(conv_id)
    if conv and conv.status == WAITING and conv.reserved_until == until:
        label, agent_id = conv.reserve_reason, conv.reserved_for
        unreserve(domain, conv)
        route(domain, conv, f"waited {domain.config.last_agent.wait_seconds:g} s for {label} {agent_id}")


def on_ring_timeout(domain: Domain, conv_id: str, entry: int) -> None:
    """Timer `ring`: the conversation enters its next bullseye ring: requirements relax, route again."""
    conv = domain.conversations.get(conv_id)
    if not conv or conv.entry != entry or conv.status not in (WAITING, ALERTING):
        return
    schedule_ring(domain, conv)
    if conv.status == WAITING and not conv.reserved_for:
        reqs = needs(domain, conv)
        decide(domain, "ring_expanded", f"ring {reqs.ring}: {', '.join(reqs.relaxed) or 'nothing relaxed'}",
               conv=conv, ring=reqs.ring, skills=reqs.skills, language=reqs.language, relaxed=list(reqs.relaxed))
        route(domain, conv, f"ring {reqs.ring}")


TIMERS = {"alert": on_alert_timeout, "acw": on_acw_timeout, "reserve": on_reserve_timeout,
          "ring": on_ring_timeout, "grace": on_grace_timeout, "deadline": on_deadline_timer,
          "silence": on_silence_timeout, "flow_out": on_flow_out_timeout}


def advance(domain: Domain, now: int) -> None:
    """Move the clock to `now`, firing due timeouts at their own time (never backwards); first, the
    queue settings of a configuration the domain has not announced yet (`configured.py`)."""
    while domain.timers and domain.timers[0][0] <= now:
        due, _, kind, args = heapq.heappop(domain.timers)
        domain.now = max(domain.now, due)
        TIMERS[kind](domain, *args)
    if now > domain.now:
        domain.now = now
        domain.changed.domain = True
    announce(domain)
