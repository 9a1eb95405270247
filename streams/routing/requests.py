"""Routing requests: admit and classify a new conversation, transfer an ongoing one, or close one.

A request whose id the conversation (or its tombstone) already holds is a replay after a restart
and changes nothing. A closed conversation is abandoned if it waits or alerts, ended if connected.
"""
from __future__ import annotations

from streams.records import millis

from . import outputs as out
from .roster import agent_state
from .domain import Domain, decide, touch
from .matching import fill, route
from .model import ALERTING, CONNECTED, WAITING, Conversation, remember
from .offers import revoke
from .queueing import dequeue, enqueue, finish, prefer, schedule_ring
from .rules import Classification, classify
from .transfers import release_consulting, transfer
from .wrapup import end_interaction


def on_request(domain: Domain, request: dict) -> None:
    """Apply a routing-request: a new or ongoing conversation, a transfer, or a close."""
    conv_id, reason = request["conversation_id"], request.get("reason")
    if reason == "closed":
        return close(domain, conv_id, request.get("close_reason") or "closed")
    conv = domain.conversations.get(conv_id)
    seen = conv.request_ids if conv else domain.finished.get(conv_id, {}).get("request_ids", [])
    if request["request_id"] in seen:
        return  # a replay after a restart: already applied
    if conv is None:
        return admit(domain, request)
    remember(conv.request_ids, request["request_id"])
    if reason == "transfer" and conv.status == CONNECTED:
        return transfer(domain, conv, conv.agent_id, "blind", request.get("target_queue_id"),
                        request.get("target_agent_id"))
    touch(domain, conv)
    decide(domain, "ignored", f"already in routing ({conv.status})", conv=conv)


def admit(domain: Domain, request: dict) -> None:
    """A new conversation: classified, queued, reserved for its last agent or target, routed."""
    conv = new_conversation(domain, request)
    domain.conversations[conv.conversation_id] = conv
    enqueue(domain, conv)
    schedule_ring(domain, conv)
    target = request.get("target_agent_id")
    preferred = target or request.get("preferred_agent_id")
    if preferred:
        prefer(domain, conv, preferred, "transfer target" if target else "last agent")
    route(domain, conv, "new request")


def new_conversation(domain: Domain, request: dict) -> Conversation:
    """The request's conversation, classified (queue, skills, priority, language), continuing its tombstone."""
    c = _classify(domain, request)
    done = domain.finished.pop(request["conversation_id"], {})
    conv = Conversation(request["conversation_id"], request["thread_key"], request["channel"],
                        request["channel_account_id"], request.get("customer_id"), c.queue, c.skills,
                        c.language, c.priority, c.rule, domain.now, entry=done.get("entry", 0) + 1,
                        offers=done.get("offers", 0), history=_history(request),
                        request_ids=done.get("request_ids", []) + [request["request_id"]])
    domain.changed.finished.add(conv.conversation_id)
    decide(domain, "classified", _why_classified(c), conv=conv, matched_words=list(c.matched_words),
           skills=c.skills, language=c.language)
    return conv


def _classify(domain: Domain, request: dict) -> Classification:
    target_queue = request.get("target_queue_id")
    if target_queue in domain.config.queues:
        return Classification(target_queue, dict(domain.config.queues[target_queue].skills), 0,
                              request.get("language"), None)
    texts = [request.get("first_message_text") or ""]
    if not texts[0]:  # no first message: the latest inbound messages the request carries
        inbound = [h.get("text") or "" for h in request.get("history", []) if h.get("direction") == "inbound"]
        texts = inbound[-domain.config.messages_considered:]
    return classify(domain.config, texts, request["channel"], request.get("language"))


def close(domain: Domain, conv_id: str, reason: str) -> None:
    """The customer's conversation closed: abandon it if it waits or alerts, end it if connected."""
    conv = domain.conversations.get(conv_id)
    if conv is None:
        return  # unknown, or already ended (the agent may be wrapping up: nothing to change)
    if conv.consulting_agent:
        release_consulting(domain, conv, "customer closed", outcome="completed")
    if conv.status == CONNECTED:
        return end_interaction(domain, conv, agent_state(domain, conv.agent_id), f"customer closed ({reason})")
    if conv.status in (WAITING, ALERTING):
        _abandon(domain, conv, reason)
    finish(domain, conv)


def _abandon(domain: Domain, conv: Conversation, reason: str) -> None:
    status = conv.status
    if status == WAITING:
        dequeue(domain, conv)
    domain.outputs.append(out.conv_segment(domain.tenant, conv, "queue_wait", str(conv.entry),
                                           conv.entered_at, domain.now, "abandoned"))
    if status == ALERTING:
        agent_id = conv.agent_id
        revoke(domain, conv, "abandoned", f"customer closed ({reason})", requeue=False)
        fill(domain, agent_id, "offer revoked")
    decide(domain, "abandoned", f"closed while {status} ({reason})", conv=conv)


def _history(request: dict) -> list[dict]:
    return [{"occurred_at": millis(h["occurred_at"]), "direction": h.get("direction", "unknown"),
             "channel": h.get("channel", request["channel"]), "text": h.get("text")}
            for h in request.get("history", [])]


def _why_classified(c: Classification) -> str:
    if c.rule is None:
        return f"no rule matched: default queue {c.queue}"
    return f"rule {c.rule} matched {', '.join(c.matched_words) or 'its conditions'}: queue {c.queue}"
