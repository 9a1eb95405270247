"""What the simulated platforms remember: a controllable clock, customers' last messages, injected
faults, the requests each send API received, and counters for `GET /_sim/stats`."""
from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field


class Clock:
    """Wall-clock time plus an offset that tests move forward instead of sleeping."""

    def __init__(self, offset: float = 0.0, base=time.time):
        self.offset = offset
        self._base = base

    def now(self) -> float:
        """Seconds since the epoch, as the simulated platforms see it."""
        return self._base() + self.offset

    def now_ms(self) -> int:
        """Milliseconds since the epoch."""
        return int(self.now() * 1000)


@dataclass
class Fault:
    """A failure the next `count` send-API calls of one platform answer with."""

    kind: str  # see each platform's FAULTS table: rate_limit, server_error, outside_window, token, …
    count: int = 1
    retry_after: int | None = None


@dataclass
class Stats:
    """Counters shown by GET /_sim/stats."""

    webhooks: dict = field(default_factory=lambda: defaultdict(Counter))
    sends: dict = field(default_factory=lambda: defaultdict(Counter))
    receipts: Counter = field(default_factory=Counter)
    handshakes: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """Plain dicts, ready to serialize."""
        return {"webhooks": {c: dict(v) for c, v in self.webhooks.items()},
                "sends": {c: dict(v) for c, v in self.sends.items()},
                "receipts": dict(self.receipts), "handshakes": dict(self.handshakes)}


class SimState:
    """Everything mutable the simulators share (one per simulator process or test)."""

    REQUEST_LOG_LIMIT = 10_000  # per platform; the oldest are dropped first

    def __init__(self, clock: Clock | None = None):
        self.clock = clock or Clock()
        self.last_inbound: dict[tuple[str, str, str], float] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: dict[str, deque[dict]] = defaultdict(lambda: deque(maxlen=self.REQUEST_LOG_LIMIT))
        self.stats = Stats()
        self.scratch: dict[str, dict] = defaultdict(dict)  # per-platform memory (reply tokens, retry keys…)

    def customer_wrote(self, channel: str, account_id: str, user_id: str, at: float) -> None:
        """Remember a customer's message (from a webhook we sent) for the platform's windows."""
        key = (channel, account_id, user_id)
        self.last_inbound[key] = max(at, self.last_inbound.get(key, 0.0))

    def hours_since_customer(self, channel: str, account_id: str, user_id: str) -> float | None:
        """Hours since the customer's last message on this account, None if they never wrote."""
        at = self.last_inbound.get((channel, account_id, user_id))
        return None if at is None else (self.clock.now() - at) / 3600

    def take_fault(self, platform: str) -> Fault | None:
        """The fault the next call of this platform must answer with, if any (consumes one)."""
        queue = self.faults[platform]
        if not queue:
            return None
        fault = queue[0]
        fault.count -= 1
        if fault.count <= 0:
            queue.popleft()
        return fault
