"""Per-session rate limits of the guest API, on an injectable clock (tests control time)."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable

from .protocol import GuestError

MESSAGES_PER_SECOND = 2      # the third within one second is refused (docs/channels/web.md)
TYPING_EVERY_SECONDS = 5.0   # at most one typing indicator passed on per 5 s


class RateLimit:
    """At most `count` events in any `per` seconds; the next one is refused with when to retry."""

    def __init__(self, clock: Callable[[], float], count: int = MESSAGES_PER_SECOND, per: float = 1.0):
        self.clock, self.count, self.per = clock, count, per
        self._times: deque[float] = deque()

    def take(self) -> None:
        """Count one event now, or GuestError rate_limited with `retry_after` seconds."""
        now = self.clock()
        while self._times and self._times[0] <= now - self.per:
            self._times.popleft()
        if len(self._times) >= self.count:
            wait = self._times[0] + self.per - now
            raise GuestError("rate_limited", f"at most {self.count} messages per second: wait {wait:.2f} s",
                             retry_after=max(wait, 0.001))
        self._times.append(now)


class Throttle:
    """Lets one event through per `every` seconds; the others are dropped (answered throttled)."""

    def __init__(self, clock: Callable[[], float], every: float = TYPING_EVERY_SECONDS):
        self.clock, self.every = clock, every
        self._last: float | None = None

    def passes(self) -> bool:
        """Whether an event now is passed on."""
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        return True
