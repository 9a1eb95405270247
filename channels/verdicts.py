"""What a window rule (and the outbound policy) answers: the message may go now, or not and why."""
from __future__ import annotations

from dataclasses import dataclass, field

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Approved:
    """The message may go; `messaging_tag` is set on it when the window needs one (HUMAN_AGENT).
    `fallbacks` names the elements replaced by their declared fallback ("sticker:emoji"), and
    `content` is then the content to send (`channels.fallbacks.substitute`)."""

    messaging_tag: str | None = None
    after_window: bool = False
    fallbacks: tuple[str, ...] = ()
    content: list | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Rejected:
    """The message may not go: machine-readable rule and a reason an agent can read."""

    rule: str
    reason: str


def no_window(outbound, thread, account, window, since_ms) -> Approved:
    """The window rule of a channel without one (our widget, Open Messaging): always approved."""
    return Approved()
