"""Re-skilling a waiting conversation from a later customer message (routing-request v5 `message_added`).

Keyword rules may match on any customer message until the conversation is answered (the conversation
processor sends `message_added` only until then, `streams/conversations/language.py`). The rules run
again over everything the customer wrote that the request carries (the first message, the recent
inbound history, the new text), in order, so a later message can only bring an earlier (stronger) rule
into play, never undo one; the language is the request's (a confident detection, which may be new)
or the one routing already has, and a rule's own language still wins (`rules.classify`). When the
queue, skills, priority or language differ, a WAITING conversation moves to its new queue's wait list
at its original place (entry time), with the new requirements, a `reclassified` decision says what
changed and why, and it is routed again.

Only WAITING conversations are re-skilled. An ALERTING one keeps its offer (revoking an offer the agent
may be accepting at this moment would race with the accept; the agent sees the message when they
take it): the decision is `ignored`, naming what the rules would have changed. A conversation that a
transfer put in its queue keeps the queue the agent chose.
"""
from __future__ import annotations

from .deadlines import priority, schedule_deadline
from .domain import Domain, decide, touch
from .matching import route
from .model import WAITING, Conversation
from .queueing import schedule_ring
from .rules import Classification, classify
from .updates import UPDATES


def on_message_added(domain: Domain, conv: Conversation, request: dict) -> None:
    """A waiting customer wrote again: re-apply the keyword rules and re-skill the conversation if they differ."""
    if conv.transfer_from or conv.media:
        return   # a transfer's queue (or another system's work) is not the rules' to change
    c = classify(domain.config, texts(request), conv.channel, request.get("language") or conv.language)
    changes = differences(conv, c)
    if not changes:
        return
    if conv.status != WAITING:
        decide(domain, "ignored", f"message added while {conv.status}: not re-skilled ({'; '.join(changes)})",
               conv=conv, matched_words=list(c.matched_words), skills=c.skills, language=c.language)
        return
    reskill(domain, conv, c)
    decide(domain, "reclassified", f"{c.explain()}: {'; '.join(changes)}", conv=conv,
           matched_words=list(c.matched_words), skills=c.skills, language=c.language)
    route(domain, conv, "reclassified")


def texts(request: dict) -> list[str]:
    """What the customer wrote, as far as the request tells: first message, recent inbound, the new text."""
    inbound = [h.get("text") or "" for h in request.get("history", []) if h.get("direction") == "inbound"]
    return [request.get("first_message_text") or "", *inbound, request.get("message_text") or ""]


def differences(conv: Conversation, c: Classification) -> list[str]:
    """What the classification changes on the conversation, in words (empty: nothing)."""
    pairs = (("queue", conv.queue_id, c.queue), ("skills", conv.skills, c.skills),
             ("priority", conv.priority, c.priority), ("language", conv.language, c.language))
    return [f"{name} {old} -> {new}" for name, old, new in pairs if old != new]


def reskill(domain: Domain, conv: Conversation, c: Classification) -> None:
    """Give a waiting conversation its new queue and requirements; it keeps its entry time (its place)."""
    old_queue = conv.queue_id
    domain.waiting[old_queue].remove(conv.conversation_id)
    conv.queue_id, conv.skills, conv.priority, conv.language, conv.rule = \
        c.queue, dict(c.skills), c.priority, c.language, c.rule
    domain.waiting[conv.queue_id].add(conv.entered_at, priority(domain, conv), conv.conversation_id)
    touch(domain, conv)
    if conv.queue_id != old_queue:   # the new queue's rings and deadline curve (an old queue's timer only routes again)
        schedule_ring(domain, conv)
        schedule_deadline(domain, conv)


UPDATES["message_added"] = on_message_added
