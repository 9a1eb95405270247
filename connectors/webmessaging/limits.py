"""Rate limits of the guest API, on injectable clocks (tests control time).

Per socket: messages and typing. Per source address (`GuestFloods`, on `connectors.floods`
buckets): new sessions — each a record of the compacted sessions topic and a session in every
replica's memory — open sockets, and history and upload requests. A resumed session (a known
token) never spends the new-session budget.
"""
from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable

from connectors.floods import Floods
from switchboard.errors import UserError

from .protocol import GuestError

MESSAGES_PER_SECOND = 2      # the third within one second is refused (docs/channels/web.md)
TYPING_EVERY_SECONDS = 5.0   # at most one typing indicator passed on per 5 s
SESSION_RATE, SESSION_BURST = 1.0, 10     # new sessions per source address (--guest-session-rate/-burst)
REQUEST_RATE, REQUEST_BURST = 5.0, 20     # history and upload requests per source address
MAX_SOCKETS = 20                          # open guest sockets per source address (--guest-sockets)
SOCKET_RETRY_SECONDS = 10                 # a 429's Retry-After: when some socket of the address may have closed


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


class GuestFloods:
    """The guest API's budgets per source address (`connectors.floods.source_of`)."""

    def __init__(self, sessions: Floods, requests: Floods, max_sockets: int = MAX_SOCKETS):
        self.sessions, self.requests, self.max_sockets = sessions, requests, max_sockets
        self._sockets: Counter[str | None] = Counter()   # only addresses with a socket open: bounded by them

    def new_session(self, source: str | None) -> None:
        """Spend the address's budget for one new session, or GuestError rate_limited with `retry_after`."""
        if not self.sessions.allow(source):
            wait = self.sessions.retry_after(source)
            raise GuestError("rate_limited", f"too many new chat sessions from your network: wait {wait:.1f} s",
                             retry_after=max(wait, 0.001))

    def request_wait(self, source: str | None) -> float | None:
        """Spend the address's budget for one history or upload request: None, or seconds to wait."""
        return None if self.requests.allow(source) else max(self.requests.retry_after(source), 0.001)

    def open_socket(self, source: str | None) -> bool:
        """Count one more open socket of the address; False (nothing counted) when it holds the most already."""
        if self._sockets[source] >= self.max_sockets:
            return False
        self._sockets[source] += 1
        return True

    def open_sockets(self, source: str | None) -> int:
        """How many sockets of the address are open."""
        return self._sockets.get(source, 0)

    def close_socket(self, source: str | None) -> None:
        """One socket of the address closed."""
        self._sockets[source] -= 1
        if self._sockets[source] <= 0:
            del self._sockets[source]


def guest_floods(session_rate: float = SESSION_RATE, session_burst: int = SESSION_BURST,
                 max_sockets: int = MAX_SOCKETS, request_rate: float = REQUEST_RATE,
                 request_burst: int = REQUEST_BURST, clock: Callable[[], float] | None = None) -> GuestFloods:
    """The budgets `switchboard edge` gives the guest API (its --guest-… flags)."""
    clocked = {} if clock is None else {"clock": clock}
    if max_sockets < 1:
        raise UserError("the guest socket cap needs --guest-sockets ≥ 1")
    return GuestFloods(
        Floods(session_rate, session_burst, flags="--guest-session-rate > 0 and --guest-session-burst ≥ 1", **clocked),
        Floods(request_rate, request_burst, flags="--guest-request-rate > 0 and --guest-request-burst ≥ 1", **clocked),
        max_sockets)
