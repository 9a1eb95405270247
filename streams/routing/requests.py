"""Routing requests: admit and classify a new conversation, transfer an ongoing one, or close one.

A request whose id the conversation (or its tombstone) already holds is a replay after a restart
and changes nothing. A closed conversation is abandoned if it waits or alerts, ended if connected;
so is one whose customer stayed silent for its queue's `abandon_after_silence_seconds` before any
agent answered (timer `silence`), and that one's next customer message brings it back as a new
queue visit (docs/metrics.md "Abandon").
"""
from __future__ import annotations

from streams.records import millis

from .roster import agent_state
from .domain import Domain, decide, touch
from .matching import fill, route
from .deadlines import move_deadline, schedule_deadline
from .model import ALERTING, CONNECTED, WAITING, Conversation, remember
from .offers import revoke
from .queueing import dequeue, enqueue, finish, prefer, schedule_ring, schedule_silence, silence_due
from .segments import close_visit, open_visit
from .rules import Classification, classify
from .transfers import release_consulting, transfer
from .updates import UPDATES
from .customers import last_agent
from . import reskill  # noqa: F401 (registers UPDATES["message_added"])
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
    if conv is None:  # an update of a conversation routing no longer holds changes nothing (unless it went silent)
        silent = domain.finished.get(conv_id, {}).get("silent") and reason == "message_added"
        return None if reason in UPDATES and not silent else admit(domain, request)
    remember(conv.request_ids, request["request_id"])
    if reason == "message_added":
        heard(domain, conv, request)
    deadline, template_only = request.get("reply_deadline_at"), bool(request.get("template_only"))
    if (deadline, template_only) != (conv.reply_deadline_at, conv.template_only):
        move_deadline(domain, conv, deadline, template_only)  # a customer message moved the window
    if reason in UPDATES:
        return UPDATES[reason](domain, conv, request)
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
    open_visit(domain, conv)
    schedule_ring(domain, conv)
    schedule_deadline(domain, conv)
    target = request.get("target_agent_id")
    group = request.get("related_customer_ids") or []   # a merged customer's last agent on any channel
    preferred = target or (last_agent(domain, group, conv.conversation_id) if len(group) > 1 else None) \
        or request.get("preferred_agent_id")
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
                        request_ids=done.get("request_ids", []) + [request["request_id"]],
                        reply_deadline_at=request.get("reply_deadline_at"),
                        template_only=bool(request.get("template_only")))
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
    close_visit(domain, conv, "abandoned")
    if status == ALERTING:
        agent_id = conv.agent_id
        revoke(domain, conv, "abandoned", f"customer closed ({reason})", requeue=False)
        fill(domain, agent_id, "offer revoked")
    decide(domain, "abandoned", f"closed while {status} ({reason})", conv=conv)


def heard(domain: Domain, conv: Conversation, request: dict) -> None:
    """The customer wrote again: the offer's recent history is the request's, the silence timer restarts."""
    conv.history = _history(request) or conv.history
    touch(domain, conv)
    schedule_silence(domain, conv)


def on_silence_timeout(domain: Domain, conv_id: str, due: int) -> None:
    """Timer `silence`: nobody answered and the customer wrote nothing since: abandoned (stale if they
    wrote again, an agent answered, or it left routing)."""
    conv = domain.conversations.get(conv_id)
    if conv is None or conv.status not in (WAITING, ALERTING) or silence_due(domain, conv) != due:
        return
    seconds = domain.config.queues[conv.queue_id].abandon_after_silence_seconds
    _abandon(domain, conv, f"customer silent for {seconds:g} s")
    finish(domain, conv, silent=True)


def _history(request: dict) -> list[dict]:
    return [{"occurred_at": millis(h["occurred_at"]), "direction": h.get("direction", "unknown"),
             "channel": h.get("channel", request["channel"]), "text": h.get("text")}
            for h in request.get("history", [])]


def _why_classified(c: Classification) -> str:
    if c.rule is None:
        return f"no rule matched: default queue {c.queue}"
    return f"rule {c.rule} matched {', '.join(c.matched_words) or 'its conditions'}: queue {c.queue}"
