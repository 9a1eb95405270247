"""What happens to offers and interactions: revoke, end, wrap up, transfer, presence, timeouts.

A declined or timed-out offer puts the conversation back at its original place and takes the
agent out of routing (not responding) until they go on-queue again. An ended interaction enters
wrap-up per the queue's ACW mode: optional (capacity freed at once), mandatory (held until the
agent sends a code) or time-boxed (held until a code or the timeout, then the default code).
"""
from __future__ import annotations

from . import outputs as out
from .domain import Domain
from .model import ALERTING, NOT_RESPONDING, ON_QUEUE, WAITING, WRAPUP, AgentState, Conversation, Work

FINISHED_RETENTION_MS = 4 * 86_400_000  # longer than the 72 h threading window
PRUNE_EVERY_MS = 60_000


class Lifecycle(Domain):
    """Offer and interaction transitions on top of the domain's routing moves."""

    _last_prune = 0

    def set_presence(self, agent: AgentState, presence: str, reason: str) -> None:
        """Change an agent's routing status, closing the previous status interval as a fact."""
        if agent.presence_since:
            self.out.append(out.status_interval(self.tenant, agent.agent_id, agent.presence,
                                                agent.presence_since, self.now, presence, reason))
        agent.presence, agent.presence_since = presence, self.now
        if presence == ON_QUEUE:
            agent.last_free_at = self.now
        if presence == NOT_RESPONDING:
            self.out.append(out.agent_event(self.tenant, agent.agent_id, "not_responding", self.now, reason=reason))
        self._reindex(agent)

    def prefer(self, conv: Conversation, agent_id: str, label: str) -> None:
        """Reserve for the last agent (or transfer target) if they are on-queue; else route at once."""
        settings = self.config.last_agent
        presence = self.agent(agent_id).presence if agent_id in self.config.agents else "unknown"
        out_of_scope = settings.scope == "queue" and label == "last agent" and \
            agent_id not in self.members.get(conv.queue_id, ())
        if presence != ON_QUEUE or out_of_scope or settings.wait_seconds == 0:
            why = "not a member of the queue" if out_of_scope else f"is {presence}"
            self.out.append(out.decision(self.tenant, "queued", self.now,
                                         f"{label} {agent_id} {why}: any eligible agent now",
                                         conv=conv, agent_id=agent_id))
            return
        self.reserve(conv, agent_id, self.now + int(settings.wait_seconds * 1000), label)

    def _revoke(self, conv: Conversation, outcome: str, reason: str, *, not_responding: bool = False,
                requeue: bool = True) -> None:
        """End an open offer; back to the original place in the queue unless `requeue` is False."""
        agent = self.agent(conv.agent_id)
        work = agent.work.pop(conv.offer_id)
        self.out.append(out.work_segment(self.tenant, work, agent.agent_id, "alert", self.now, outcome))
        if outcome != "declined":
            self.out.append(out.agent_event(self.tenant, agent.agent_id, "offer_revoked", self.now,
                                            work=work, reason=reason))
        self._reindex(agent)
        if not_responding:
            self.set_presence(agent, NOT_RESPONDING, outcome)
        if requeue:
            self.enqueue(conv)
            self.out.append(out.decision(self.tenant, "requeued", self.now, f"offer {work.offer_id} {reason}: "
                                         "back at its original place", conv=conv, agent_id=agent.agent_id))
            self.route(conv, f"offer {outcome}")

    def _end(self, conv: Conversation, agent: AgentState, reason: str) -> None:
        """The interaction ended (agent or customer): interact segment, then wrap-up."""
        work = agent.work[conv.offer_id]
        self.out.append(out.work_segment(self.tenant, work, agent.agent_id, "interact", self.now, "completed"))
        self.out.append(out.agent_event(self.tenant, agent.agent_id, "conversation_ended", self.now,
                                        work=work, reason=reason))
        queue = self.config.queues.get(work.queue_id) or self.config.queues[self.config.default_queue]
        acw = queue.acw
        work.state, work.since = WRAPUP, self.now
        work.holds_capacity = acw.mode != "optional"
        work.deadline = None if acw.mode == "mandatory" else self.now + int(acw.timeout_seconds * 1000)
        if work.deadline:
            self.at(work.deadline, "acw", agent.agent_id, work.offer_id)
        self.out.append(out.agent_event(self.tenant, agent.agent_id, "wrapup_required", self.now, work=work,
                                        expires_at=work.deadline, reason=acw.mode,
                                        wrapup_codes=list(queue.wrapup_codes)))
        self._reindex(agent)
        self._finish(conv)
        if not work.holds_capacity:
            self.fill(agent.agent_id, "conversation ended (optional wrap-up)")

    def finish_wrapup(self, agent: AgentState, work: Work, code: str | None, outcome: str) -> None:
        """Wrap-up done (`wrapped_up` or `timeout`): facts, the final assignment, capacity back."""
        reason = "wrapped up" if outcome == "wrapped_up" else "wrap-up time over"
        self.out.append(out.work_segment(self.tenant, work, agent.agent_id, "wrapup", self.now,
                                         outcome, wrapup_code=code))
        self.out.append(out.assignment(self.tenant, work, agent.agent_id, "ended", self.now,
                                       reason=reason, wrapup_code=code))
        del agent.work[work.offer_id]
        if work.holds_capacity:
            agent.last_free_at = self.now
        self._reindex(agent)
        self.fill(agent.agent_id, "wrap-up completed")

    def _transfer(self, conv: Conversation, from_agent: str, mode: str, queue_id: str | None,
                  agent_id: str | None) -> None:
        """Blind: the agent leaves now. Consult: they stay connected until the new agent accepts."""
        problem = (f"unknown queue {queue_id}" if queue_id and queue_id not in self.config.queues else
                   f"unknown agent {agent_id}" if agent_id and agent_id not in self.config.agents else
                   None if queue_id or agent_id else "no transfer target")
        if problem:
            self.out.append(out.decision(self.tenant, "ignored", self.now, f"transfer refused: {problem}",
                                         conv=conv, agent_id=from_agent))
            return
        target = f"agent:{agent_id}" if agent_id else f"queue:{queue_id}"
        conv.transfer_mode = mode
        if mode == "consult":
            conv.consulting_agent, conv.consulting_offer = from_agent, conv.offer_id
        else:
            self._leave(conv, self.agent(from_agent), conv.offer_id, "transferred", "blind", target)
        conv.entry, conv.entered_at = conv.entry + 1, self.now
        if queue_id:
            conv.queue_id, conv.skills = queue_id, dict(self.config.queues[queue_id].skills)
        self.enqueue(conv)
        self.schedule_ring(conv)
        self.out.append(out.decision(self.tenant, "transferred", self.now, f"{mode} transfer to {target}",
                                     conv=conv, agent_id=from_agent))
        if agent_id:
            self.prefer(conv, agent_id, "transfer target")
        self.route(conv, f"{mode} transfer")
        if mode != "consult":
            self.fill(from_agent, "transferred a conversation")

    def _leave(self, conv: Conversation, agent: AgentState, offer_id: str, kind: str,
               transfer_type: str | None, target: str | None) -> None:
        work = agent.work.pop(offer_id)
        self.out.append(out.work_segment(self.tenant, work, agent.agent_id, "interact", self.now,
                                         "transferred" if kind == "transferred" else "completed",
                                         transfer_type=transfer_type))
        self.out.append(out.assignment(self.tenant, work, agent.agent_id, kind, self.now,
                                       reason=f"{transfer_type} transfer" if transfer_type else "closed",
                                       transfer_target=target))
        self.out.append(out.agent_event(self.tenant, agent.agent_id, "conversation_ended", self.now,
                                        work=work, reason=kind))
        agent.last_free_at = self.now
        self._reindex(agent)

    def _release_consulting(self, conv: Conversation, reason: str, outcome: str) -> None:
        """The transferring agent of a consult transfer leaves the conversation."""
        agent_id, offer_id = conv.consulting_agent, conv.consulting_offer
        conv.consulting_agent = conv.consulting_offer = None
        self.touch(conv)
        kind = "transferred" if outcome == "transferred" else "ended"
        target = f"agent:{conv.agent_id}" if conv.agent_id else f"queue:{conv.queue_id}"
        self._leave(conv, self.agent(agent_id), offer_id, kind, "consult" if kind == "transferred" else None,
                    target if kind == "transferred" else None)
        self.fill(agent_id, reason)

    def _finish(self, conv: Conversation) -> None:
        """The conversation leaves routing; a tombstone remembers its ids for replays."""
        self.dequeue(conv)
        del self.conversations[conv.conversation_id]
        self.finished[conv.conversation_id] = {"at": self.now, "request_ids": conv.request_ids,
                                               "offers": conv.offers, "entry": conv.entry}
        self.touch(conv)
        self.dirty.add(f"done:{conv.conversation_id}")

    def _forget_finished(self) -> None:
        if self.now - self._last_prune < PRUNE_EVERY_MS:
            return
        self._last_prune = self.now
        for conv_id in [c for c, d in self.finished.items() if d["at"] < self.now - FINISHED_RETENTION_MS]:
            del self.finished[conv_id]
            self.dirty.add(f"done:{conv_id}")

    # -- timeouts (stale ones are recognised and ignored) ---------------------------------------
    def _timer_alert(self, conv_id: str, offer_id: str) -> None:
        conv = self.conversations.get(conv_id)
        if conv and conv.status == ALERTING and conv.offer_id == offer_id:
            self._revoke(conv, "timeout", "alert timeout", not_responding=True)

    def _timer_reserve(self, conv_id: str, until: int) -> None:
        conv = self.conversations.get(conv_id)
        if conv and conv.status == WAITING and conv.reserved_until == until:
            label, agent_id = conv.reserve_reason, conv.reserved_for
            self.unreserve(conv)
            self.route(conv, f"waited {self.config.last_agent.wait_seconds:g} s for {label} {agent_id}")

    def _timer_ring(self, conv_id: str, entry: int) -> None:
        conv = self.conversations.get(conv_id)
        if not conv or conv.entry != entry or conv.status not in (WAITING, ALERTING):
            return
        self.schedule_ring(conv)
        if conv.status == WAITING and not conv.reserved_for:
            needs = self.needs(conv)
            self.out.append(out.decision(self.tenant, "ring_expanded", self.now,
                                         f"ring {needs.ring}: {', '.join(needs.relaxed) or 'nothing relaxed'}",
                                         conv=conv, ring=needs.ring, skills=needs.skills,
                                         language=needs.language, relaxed=list(needs.relaxed)))
            self.route(conv, f"ring {needs.ring}")

    def _timer_acw(self, agent_id: str, offer_id: str) -> None:
        agent = self.agents.get(agent_id)
        work = agent.work.get(offer_id) if agent else None
        if work and work.state == WRAPUP and work.deadline is not None and work.deadline <= self.now:
            queue = self.config.queues.get(work.queue_id)
            code = queue.acw.default_code if queue and queue.acw.mode == "time_boxed" else None
            self.finish_wrapup(agent, work, code, "timeout")
