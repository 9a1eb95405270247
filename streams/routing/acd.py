"""The ACD of one routing domain: events in (requests, agent actions, ticks), records out.

`AcdState.apply_request / apply_action / apply_tick` take one decoded event (times in epoch
millis), first fire every timeout due up to the event's time, apply the event and return the
records to produce. No I/O, no wall clock: tests drive time with ticks.
"""
from __future__ import annotations

import heapq

from . import outputs as out
from .config import RoutingConfig
from .lifecycle import Lifecycle
from .model import ALERTING, CONNECTED, ON_QUEUE, WAITING, WRAPUP, AgentState, Conversation, remember
from .rules import classify


class AcdState(Lifecycle):
    """The routing domain's ACD (see module docstring)."""

    # -- public API ----------------------------------------------------------------------------
    def apply_request(self, request: dict) -> list[out.Output]:
        """A routing-request: route a new or ongoing conversation, a transfer, or a close."""
        self.advance(request["requested_at"])
        conv_id, reason = request["conversation_id"], request.get("reason")
        if reason == "closed":
            self._close(conv_id, request.get("close_reason") or "closed")
            return self.drain()
        conv = self.conversations.get(conv_id)
        seen = conv.request_ids if conv else self.finished.get(conv_id, {}).get("request_ids", [])
        if request["request_id"] in seen:
            return self.drain()  # a replay after a restart: already applied
        if conv is None:
            self._admit(request)
        elif reason == "transfer" and conv.status == CONNECTED:
            remember(conv.request_ids, request["request_id"])
            self._transfer(conv, conv.agent_id, "blind", request.get("target_queue_id"),
                           request.get("target_agent_id"))
        else:
            remember(conv.request_ids, request["request_id"])
            self.touch(conv)
            self.out.append(out.decision(self.tenant, "ignored", self.now,
                                         f"already in routing ({conv.status})", conv=conv))
        return self.drain()

    def apply_action(self, action: dict) -> list[out.Output]:
        """An agent-action: presence, accept, decline, transfer, end, wrap-up."""
        self.advance(action["occurred_at"])
        agent_id = action["agent_id"]
        if agent_id not in self.config.agents:
            self.out.append(out.decision(self.tenant, "ignored", self.now,
                                         f"agent {agent_id} is not in the routing file", agent_id=agent_id))
            return self.drain()
        agent = self.agent(agent_id)
        if action["action_id"] in agent.recent_actions:
            return self.drain()
        remember(agent.recent_actions, action["action_id"])
        self.dirty.add(f"agent:{agent_id}")
        handler = getattr(self, f"_on_{action['type']}", None)
        if handler:
            handler(agent, action)
        return self.drain()

    def apply_tick(self, tick_at: int) -> list[out.Output]:
        """The routing clock: fire every timeout due up to `tick_at`."""
        self.advance(tick_at)
        self._forget_finished()
        return self.drain()

    def reconfigure(self, config: RoutingConfig) -> list[out.Output]:
        """A changed routing file: re-index, move conversations of removed queues, refill agents."""
        self.config = config
        self._index_config()
        for conv in list(self.conversations.values()):
            if conv.queue_id not in config.queues:
                self.dequeue(conv)
                conv.queue_id = config.default_queue
                if conv.status == WAITING:
                    self.enqueue(conv)
        for agent in list(self.agents.values()):
            self.fill(agent.agent_id, "routing file reloaded")
        return self.drain()

    def drain(self) -> list[out.Output]:
        """The records produced since the last call."""
        records, self.out = self.out, []
        return records

    def advance(self, now: int) -> None:
        """Move the clock to `now`, firing due timeouts at their own time (never backwards)."""
        while self.timers and self.timers[0][0] <= now:
            due, _, kind, args = heapq.heappop(self.timers)
            self.now = max(self.now, due)
            getattr(self, f"_timer_{kind}")(*args)
        if now > self.now:
            self.now = now
            self.dirty.add("domain")

    # -- requests ------------------------------------------------------------------------------
    def _admit(self, request: dict) -> None:
        conv = self._new_conversation(request)
        self.conversations[conv.conversation_id] = conv
        self.enqueue(conv)
        self.schedule_ring(conv)
        target = request.get("target_agent_id")
        preferred = target or request.get("preferred_agent_id")
        if preferred:
            self.prefer(conv, preferred, "transfer target" if target else "last agent")
        self.route(conv, "new request")

    def _new_conversation(self, request: dict) -> Conversation:
        texts = [request.get("first_message_text") or ""]
        if not texts[0]:  # no first message: the latest inbound messages the request carries
            inbound = [h.get("text") or "" for h in request.get("history", []) if h.get("direction") == "inbound"]
            texts = inbound[-self.config.messages_considered:]
        target_queue = request.get("target_queue_id")
        if target_queue in self.config.queues:
            queue, skills = target_queue, dict(self.config.queues[target_queue].skills)
            rule, words, priority, language = None, (), 0, request.get("language")
        else:
            c = classify(self.config, texts, request["channel"], request.get("language"))
            queue, skills, rule, words, priority, language = c.queue, c.skills, c.rule, c.matched_words, c.priority, c.language
        done = self.finished.pop(request["conversation_id"], {})
        conv = Conversation(request["conversation_id"], request["thread_key"], request["channel"],
                            request["channel_account_id"], request.get("customer_id"), queue, skills,
                            language, priority, rule, self.now, entry=done.get("entry", 0) + 1,
                            offers=done.get("offers", 0), history=_history(request),
                            request_ids=done.get("request_ids", []) + [request["request_id"]])
        self.dirty.add(f"done:{conv.conversation_id}")
        self.out.append(out.decision(self.tenant, "classified", self.now, _why_classified(rule, words, queue),
                                     conv=conv, matched_words=list(words), skills=skills, language=language))
        return conv

    def _close(self, conv_id: str, reason: str) -> None:
        """The customer's conversation closed: abandon it if it waits, end it if connected."""
        conv = self.conversations.get(conv_id)
        if conv is None:
            return  # unknown, or already ended (the agent may be wrapping up: nothing to change)
        if conv.consulting_agent:
            self._release_consulting(conv, "customer closed", outcome="completed")
        if conv.status == WAITING:
            self.dequeue(conv)
            self.out.append(out.conv_segment(self.tenant, conv, "queue_wait", str(conv.entry),
                                             conv.entered_at, self.now, "abandoned"))
            self.out.append(out.decision(self.tenant, "abandoned", self.now, f"closed while waiting ({reason})", conv=conv))
        elif conv.status == ALERTING:
            agent = self.agent(conv.agent_id)
            self.out.append(out.conv_segment(self.tenant, conv, "queue_wait", str(conv.entry),
                                             conv.entered_at, self.now, "abandoned"))
            self._revoke(conv, "abandoned", f"customer closed ({reason})", requeue=False)
            self.fill(agent.agent_id, "offer revoked")
            self.out.append(out.decision(self.tenant, "abandoned", self.now, f"closed while alerting ({reason})", conv=conv))
        elif conv.status == CONNECTED:
            self._end(conv, self.agent(conv.agent_id), f"customer closed ({reason})")
            return
        self._finish(conv)

    # -- agent actions ---------------------------------------------------------------------------
    def _on_presence(self, agent: AgentState, action: dict) -> None:
        presence = action.get("presence") or "unknown"
        if presence == agent.presence:
            return
        self.set_presence(agent, presence, "agent action")
        if presence == ON_QUEUE:
            return self.fill(agent.agent_id, "agent on-queue")
        for conv_id in list(self.reserved.get(agent.agent_id, ())):  # do not wait for who left
            conv = self.conversations[conv_id]
            self.unreserve(conv)
            self.route(conv, f"{agent.agent_id} went {presence}")
        for work in [w for w in agent.work.values() if w.state == ALERTING]:
            self._revoke(self.conversations[work.conversation_id], "revoked", f"agent went {presence}")

    def _offered(self, agent: AgentState, action: dict) -> Conversation | None:
        conv = self.conversations.get(action.get("conversation_id") or "")
        if conv and conv.status == ALERTING and conv.agent_id == agent.agent_id and \
                action.get("offer_id") in (None, conv.offer_id):
            return conv
        self.out.append(out.decision(self.tenant, "ignored", self.now,
                                     f"{action['type']} of an offer that is no longer open "
                                     f"({action.get('offer_id')})", agent_id=agent.agent_id))
        return None

    def _on_accept(self, agent: AgentState, action: dict) -> None:
        conv = self._offered(agent, action)
        if conv is None:
            return
        work = agent.work[conv.offer_id]
        self.out.append(out.work_segment(self.tenant, work, agent.agent_id, "alert", self.now, "accepted"))
        self.out.append(out.conv_segment(self.tenant, conv, "queue_wait", str(conv.entry),
                                         conv.entered_at, self.now, "answered"))
        work.state, work.since, work.deadline = CONNECTED, self.now, None
        conv.status, conv.connected_at = CONNECTED, self.now
        self.touch(conv)
        self.dirty.add(f"agent:{agent.agent_id}")
        if conv.consulting_agent:
            self._release_consulting(conv, f"consult transfer accepted by {agent.agent_id}", outcome="transferred")
        self.out.append(out.assignment(self.tenant, work, agent.agent_id, "connected", self.now))
        self.out.append(out.agent_event(self.tenant, agent.agent_id, "assigned", self.now, conv=conv))

    def _on_decline(self, agent: AgentState, action: dict) -> None:
        conv = self._offered(agent, action)
        if conv is not None:
            self._revoke(conv, "declined", "declined by the agent", not_responding=True)

    def _on_end(self, agent: AgentState, action: dict) -> None:
        conv = self.conversations.get(action.get("conversation_id") or "")
        if conv and conv.consulting_agent == agent.agent_id:
            return self._release_consulting(conv, "agent left during consult", outcome="transferred")
        if conv and conv.status == CONNECTED and conv.agent_id == agent.agent_id:
            self._end(conv, agent, action.get("note") or "agent ended")

    def _on_wrap_up(self, agent: AgentState, action: dict) -> None:
        works = sorted((w for w in agent.work.values() if w.state == WRAPUP and
                        w.conversation_id == action.get("conversation_id")), key=lambda w: w.since)
        if works:
            self.finish_wrapup(agent, works[0], action.get("wrapup_code"), "wrapped_up")

    def _on_transfer(self, agent: AgentState, action: dict) -> None:
        conv = self.conversations.get(action.get("conversation_id") or "")
        if conv and conv.status == CONNECTED and conv.agent_id == agent.agent_id:
            self._transfer(conv, agent.agent_id, action.get("transfer_mode") or "blind",
                           action.get("target_queue_id"), action.get("target_agent_id"))



def _history(request: dict) -> list[dict]:
    return [{"occurred_at": _millis(h["occurred_at"]), "direction": h.get("direction", "unknown"),
             "channel": h.get("channel", request["channel"]), "text": h.get("text")}
            for h in request.get("history", [])]


def _millis(value) -> int:
    return value if isinstance(value, int) else int(value.timestamp() * 1000)


def _why_classified(rule: str | None, words: tuple[str, ...], queue: str) -> str:
    if rule is None:
        return f"no rule matched: default queue {queue}"
    return f"rule {rule} matched {', '.join(words) or 'its conditions'}: queue {queue}"

