"""Reply deadlines: a waiting conversation's priority rises as the customer's free-reply window nears
its end, and once it has closed the offer says "template only".

The conversation processor tells routing when the window closes (routing-request v4
`reply_deadline_at`, re-sent whenever a customer message moves it). The queue's curve
(`deadline_boost`, config.py) adds priority — minutes of virtual age, waitlist.py — once the time
left falls within a step's window; after the deadline the boost is gone (nothing is won by being
answered sooner: only a template may be sent). The boost only changes at the curve's boundaries,
so each is a domain timer (`deadline`): the order stays a function of the domain clock alone, and
a restart re-derives it from the entities.
"""
from __future__ import annotations

from .config import DeadlineBoost
from .domain import Domain, at, decide, touch
from .model import WAITING, Conversation

MINUTE_MS = 60_000


def boost(curve: tuple[DeadlineBoost, ...], deadline: int | None, now: int) -> int:
    """Priority added at `now` for a window closing at `deadline` (0 without one, or once it closed)."""
    if deadline is None or now >= deadline:
        return 0
    left = deadline - now
    return next((step.add for step in curve if left <= step.within_minutes * MINUTE_MS), 0)


def next_change(curve: tuple[DeadlineBoost, ...], deadline: int | None, now: int) -> int | None:
    """When the boost next changes: a step's boundary or the deadline itself (None: never again)."""
    if deadline is None or now >= deadline:
        return None
    ahead = [deadline - int(step.within_minutes * MINUTE_MS) for step in curve] + [deadline]
    return min(due for due in ahead if due > now)


def closed(conv: Conversation, now: int) -> bool:
    """Whether only a template may answer the conversation now (the window closed, or the request said so)."""
    return conv.template_only or (conv.reply_deadline_at is not None and now >= conv.reply_deadline_at)


def priority(domain: Domain, conv: Conversation) -> int:
    """The conversation's priority now: its rule's, plus the deadline boost of its queue's curve."""
    return conv.priority + boost(domain.config.deadline_curve(conv.queue_id), conv.reply_deadline_at, domain.now)


def schedule_deadline(domain: Domain, conv: Conversation) -> None:
    """Arm the timer of the conversation's next boost change, if any."""
    due = next_change(domain.config.deadline_curve(conv.queue_id), conv.reply_deadline_at, domain.now)
    if due is not None:
        at(domain, due, "deadline", conv.conversation_id, conv.reply_deadline_at)


def why(domain: Domain, conv: Conversation) -> str:
    """The deadline's part of an offer's reason ("" when it plays none)."""
    if conv.reply_deadline_at is None:
        return ""
    if closed(conv, domain.now):
        return "; reply window closed: template only"
    left_min = (conv.reply_deadline_at - domain.now) / MINUTE_MS
    added = priority(domain, conv) - conv.priority
    return f"; reply window closes in {left_min:.0f} min" + (f" (priority +{added})" if added else "")


def move_deadline(domain: Domain, conv: Conversation, deadline: int | None, template_only: bool) -> None:
    """A new request moved the window: a waiting conversation takes its new place."""
    conv.reply_deadline_at, conv.template_only = deadline, template_only
    touch(domain, conv)
    _replace(domain, conv, "reply deadline moved")
    schedule_deadline(domain, conv)


def on_deadline_timer(domain: Domain, conv_id: str, deadline: int | None) -> None:
    """Timer `deadline`: the boost changed (stale if the deadline moved meanwhile or it no longer waits)."""
    conv = domain.conversations.get(conv_id)
    if conv is None or conv.reply_deadline_at != deadline:
        return
    schedule_deadline(domain, conv)
    _replace(domain, conv, "reply deadline nearer" if domain.now < deadline else "reply window closed")


def _replace(domain: Domain, conv: Conversation, what: str) -> None:
    if conv.status != WAITING:
        return
    waitlist, now_priority = domain.waiting[conv.queue_id], priority(domain, conv)
    waitlist.add(conv.entered_at, now_priority, conv.conversation_id)
    decide(domain, "queued", f"{what}: priority {now_priority}{why(domain, conv)}", conv=conv,
           priority=now_priority)
