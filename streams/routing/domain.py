"""One routing domain's state and the two moves of the ACD: route a conversation, fill an agent.

`Domain` holds agents, conversations, per-queue wait lists, indexes (queue members, agents with
capacity left per media type, conversations reserved for an agent) and the timer heap. It never
does I/O: handlers append `Output`s to `self.out` and mark changed entities in `self.dirty`.
"""
from __future__ import annotations

import heapq
import itertools
from collections import defaultdict

from . import outputs as out
from .config import Agent, RoutingConfig
from .model import ALERTING, ON_QUEUE, WAITING, AgentState, Conversation, Work
from .rings import Requirements, next_ring_at, requirements
from .selection import Candidate, capacity_problem, rank, skill_problem, why_winner
from .waitlist import WaitList, order_key

NO_PROFILE = Agent()  # an agent missing from the routing file: no skills, no queues


class Domain:
    """The ACD state of one tenant, with routing and filling (see module docstring)."""

    def __init__(self, config: RoutingConfig, now: int = 0):
        self.config, self.tenant, self.now = config, config.tenant, now
        self.agents: dict[str, AgentState] = {}
        self.conversations: dict[str, Conversation] = {}
        self.finished: dict[str, dict] = {}  # tombstones: replayed requests are recognised
        self.waiting: dict[str, WaitList] = defaultdict(WaitList)
        self.reserved: dict[str, set[str]] = defaultdict(set)
        self.members: dict[str, set[str]] = {}
        self.open: dict[str, set[str]] = {}
        self.timers: list[tuple] = []
        self._seq = itertools.count()
        self.dirty: set[str] = set()
        self.out: list[out.Output] = []
        self._index_config()

    # -- indexes -------------------------------------------------------------------------------
    def _index_config(self) -> None:
        self.members = {q: set() for q in self.config.queues}
        for agent_id, profile in self.config.agents.items():
            for queue_id in profile.queues:
                self.members[queue_id].add(agent_id)
        self.open = {media: set() for media in self.config.utilization}
        for agent in self.agents.values():
            self._reindex(agent)

    def _reindex(self, agent: AgentState) -> None:
        """Keep `open[media]` = agents on-queue with capacity left for that media."""
        for media, agents in self.open.items():
            if capacity_problem(self.config, agent, media) is None:
                agents.add(agent.agent_id)
            else:
                agents.discard(agent.agent_id)
        self.dirty.add(f"agent:{agent.agent_id}")

    def agent(self, agent_id: str) -> AgentState:
        """The agent's routing state (offline until they act)."""
        if agent_id not in self.agents:
            self.agents[agent_id] = AgentState(agent_id, presence_since=0, last_free_at=0)
        return self.agents[agent_id]

    def profile(self, agent_id: str) -> Agent:
        """The agent's configured profile."""
        return self.config.agents.get(agent_id) or NO_PROFILE

    def media(self, conv: Conversation) -> str:
        """The media type of a conversation."""
        return self.config.media_of(conv.channel)

    def touch(self, conv: Conversation) -> None:
        """Mark a conversation changed."""
        self.dirty.add(f"conv:{conv.conversation_id}")

    # -- timers --------------------------------------------------------------------------------
    def at(self, due: int, kind: str, *args) -> None:
        """Schedule a timeout; stale ones are recognised when they fire."""
        heapq.heappush(self.timers, (due, next(self._seq), kind, args))

    def schedule_ring(self, conv: Conversation) -> None:
        """Arm the conversation's next ring boundary, if its queue has one ahead."""
        due = next_ring_at(self.config.queues[conv.queue_id], conv.entered_at, self.now)
        if due is not None:
            self.at(due, "ring", conv.conversation_id, conv.entry)

    # -- waiting -------------------------------------------------------------------------------
    def enqueue(self, conv: Conversation) -> None:
        """Put a conversation in its queue at its place (entry time and priority)."""
        conv.status, conv.agent_id, conv.offer_id = WAITING, None, None
        self.waiting[conv.queue_id].add(conv.entered_at, conv.priority, conv.conversation_id)
        self.touch(conv)

    def dequeue(self, conv: Conversation) -> None:
        """Take a conversation out of its queue and out of any reservation."""
        self.waiting[conv.queue_id].remove(conv.conversation_id)
        self.unreserve(conv)

    def reserve(self, conv: Conversation, agent_id: str, until: int, reason: str) -> None:
        """Hold a waiting conversation for one agent (last agent, transfer target) until `until`."""
        conv.reserved_for, conv.reserved_until, conv.reserve_reason = agent_id, until, reason
        self.reserved[agent_id].add(conv.conversation_id)
        self.at(until, "reserve", conv.conversation_id, until)
        self.touch(conv)

    def unreserve(self, conv: Conversation) -> None:
        """Release a reservation, if any."""
        if conv.reserved_for:
            self.reserved[conv.reserved_for].discard(conv.conversation_id)
            conv.reserved_for = conv.reserved_until = conv.reserve_reason = None
            self.touch(conv)

    def needs(self, conv: Conversation) -> Requirements:
        """The conversation's requirements in its current ring."""
        return requirements(self.config.queues[conv.queue_id], conv.skills, conv.language,
                            self.now - conv.entered_at)

    # -- routing a conversation ----------------------------------------------------------------
    def candidates(self, conv: Conversation, needs: Requirements) -> tuple[list[Candidate], dict]:
        """Queue members with capacity left: the best ranked and a sample of the excluded, and counts.

        Agents in `open[media]` have capacity by construction, so only skills and language are
        checked here: this loop is the cost of a decision when many agents are free.
        """
        members, open_ = self.members.get(conv.queue_id, set()), self.open.get(self.media(conv), set())
        pool = [a for a in open_ if a in members] if len(open_) < len(members) else \
            [a for a in members if a in open_]
        eligible, excluded = [], []
        for agent_id in pool:
            profile = self.profile(agent_id)
            problem = "is the transferring agent" if agent_id == conv.consulting_agent else \
                skill_problem(profile, needs)
            if problem:
                excluded.append(Candidate(agent_id, problem))
                continue
            agent = self.agents[agent_id]
            eligible.append((-sum(profile.skills.get(s, 0) for s in needs.skills), agent.active(),
                             agent.last_free_at, agent_id))
        return rank(eligible, excluded), {"candidates_total": len(pool), "unavailable": len(members) - len(pool)}

    def route(self, conv: Conversation, trigger: str) -> None:
        """Offer a waiting conversation to its best agent now, or record why it keeps waiting."""
        needs = self.needs(conv)
        if conv.reserved_for:
            return self._route_reserved(conv, needs, trigger)
        ranked, counts = self.candidates(conv, needs)
        if ranked and ranked[0].rank == 1:
            runner_up = ranked[1] if len(ranked) > 1 and ranked[1].rank else None
            return self.offer(conv, ranked[0].agent_id, needs, ranked, counts,
                              f"{trigger}: {why_winner(ranked[0], runner_up)}")
        self.out.append(out.decision(
            self.tenant, "queued", self.now, f"{trigger}: no eligible agent ({counts['unavailable']} members "
            f"not on-queue or at capacity, {counts['candidates_total']} evaluated)", conv=conv, ranked=ranked,
            **counts, **_needs_fields(needs)))

    def _route_reserved(self, conv: Conversation, needs: Requirements, trigger: str) -> None:
        agent = self.agent(conv.reserved_for)
        problem = capacity_problem(self.config, agent, self.media(conv))
        candidate = [Candidate(agent.agent_id, problem, 0, agent.active(), agent.last_free_at,
                               None if problem else 1)]
        if problem is None:
            return self.offer(conv, agent.agent_id, needs, candidate, {"candidates_total": 1},
                              conv.reserve_reason or "reserved")
        wait_s = (conv.reserved_until - self.now) / 1000
        self.out.append(out.decision(
            self.tenant, "reserved", self.now, f"{trigger}: waiting up to {wait_s:g} s for "
            f"{conv.reserve_reason} {agent.agent_id} ({problem})", conv=conv, ranked=candidate,
            candidates_total=1, agent_id=agent.agent_id, **_needs_fields(needs)))

    def offer(self, conv: Conversation, agent_id: str, needs: Requirements, ranked: list[Candidate],
              counts: dict, reason: str) -> None:
        """Alert an agent: the conversation holds one unit of their capacity until they answer."""
        agent, queue = self.agent(agent_id), self.config.queues[conv.queue_id]
        self.dequeue(conv)
        conv.offers += 1
        offer_id = f"{conv.conversation_id}:o{conv.offers}"
        expires = self.now + int(queue.alert_timeout_seconds * 1000)
        conv.status, conv.agent_id, conv.offer_id, conv.offer_at = ALERTING, agent_id, offer_id, self.now
        agent.work[offer_id] = Work(conv.conversation_id, self.media(conv), ALERTING, self.now, offer_id,
                                    conv.queue_id, conv.thread_key, conv.channel, conv.channel_account_id,
                                    conv.customer_id, expires)
        self._reindex(agent)
        self.touch(conv)
        self.at(expires, "alert", conv.conversation_id, offer_id)
        self.out.append(out.agent_event(self.tenant, agent_id, "offered", self.now, conv=conv,
                                        expires_at=expires, history=conv.history, reason=reason))
        self.out.append(out.decision(self.tenant, "offered", self.now, reason, conv=conv, ranked=ranked,
                                     agent_id=agent_id, offer_id=offer_id, **counts, **_needs_fields(needs)))

    # -- filling an agent ----------------------------------------------------------------------
    def fill(self, agent_id: str, trigger: str) -> None:
        """While the agent has capacity, offer them the best waiting conversation they may take."""
        agent = self.agent(agent_id)
        while agent.presence == ON_QUEUE:
            conv = self._best_for(agent)
            if conv is None:
                return
            if conv.reserved_for == agent_id:
                self.offer(conv, agent_id, self.needs(conv), [Candidate(agent_id, None, rank=1)],
                           {"candidates_total": 1}, f"{trigger}: {conv.reserve_reason} is free again")
                continue
            needs = self.needs(conv)
            ranked, counts = self.candidates(conv, needs)
            self.offer(conv, agent_id, needs, ranked, counts,
                       f"{trigger}: {agent_id} has capacity; the best waiting conversation they are "
                       f"eligible for (priority {conv.priority}, waiting {(self.now - conv.entered_at) / 1000:g} s)")

    def _best_for(self, agent: AgentState) -> Conversation | None:
        reserved = [self.conversations[c] for c in self.reserved.get(agent.agent_id, ())]
        reserved = [c for c in reserved if self._fits(agent, c)]
        if reserved:
            return min(reserved, key=lambda c: order_key(c.entered_at, c.priority, c.conversation_id))
        best, best_key = None, None
        profile, fits = self.profile(agent.agent_id), {}
        for queue_id in profile.queues:
            for conv_id in self.waiting.get(queue_id, ()):
                conv = self.conversations[conv_id]
                if conv.reserved_for or conv.consulting_agent == agent.agent_id:
                    continue
                media = self.media(conv)
                if media not in fits:  # capacity depends on the media only: check each once
                    fits[media] = self._fits(agent, conv)
                if fits[media] and skill_problem(profile, self.needs(conv)) is None:
                    key = self.waiting[queue_id].key_of(conv_id)
                    if best_key is None or key < best_key:
                        best, best_key = conv, key
                    break  # the first eligible in a queue is that queue's best
        return best

    def _fits(self, agent: AgentState, conv: Conversation) -> bool:
        return capacity_problem(self.config, agent, self.media(conv)) is None


def _needs_fields(needs: Requirements) -> dict:
    return {"ring": needs.ring, "skills": needs.skills, "language": needs.language,
            "relaxed": list(needs.relaxed)}
