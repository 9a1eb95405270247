"""Floods: a token bucket per source address, for requests that cost us before anyone is trusted.

The edge's unsigned floods: a platform's verified webhooks are never limited — one Meta address
carries every Page's traffic, and a 429 there would make Meta back off and finally disable the
webhook. So the edge verifies first and asks `allow` only for a request it is about to refuse:
within the budget it answers 401, beyond it 429. The guest API spends buckets of its own on new
sessions and on history and upload requests (`connectors.webmessaging.limits`).

Behind a reverse proxy every request has the proxy's address; a budget is then shared by all the
callers behind it (verified webhooks still pass; guest visitors share the new-session budget).
"""
from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

from switchboard.errors import UserError

DEFAULT_RATE, DEFAULT_BURST = 20.0, 40
IPV6_PREFIX = 64   # one IPv6 subscriber holds a /64: its addresses are one source


class Floods:
    """Per-address token buckets (`rate` tokens/s up to `burst`), at most `max_sources` remembered."""

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST, *,
                 clock: Callable[[], float] = time.monotonic, max_sources: int = 10_000,
                 flags: str = "--unsigned-rate > 0 and --unsigned-burst ≥ 1"):
        if rate <= 0 or burst < 1:
            raise UserError(f"a request budget needs {flags}")
        self.rate, self.burst, self.clock, self.max_sources = rate, burst, clock, max_sources
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # source → (tokens, at)

    def allow(self, source: str | None) -> bool:
        """Spend one token of `source`'s bucket: False when it is empty (answer 429)."""
        key, now = source or "?", self.clock()
        tokens = self._tokens(key, now)
        self._buckets.pop(key, None)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.max_sources:  # the least recently refused address is forgotten first
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, source: str | None) -> float:
        """Seconds until `source`'s bucket holds a token again (0: it holds one now)."""
        key, now = source or "?", self.clock()
        return max(0.0, (1.0 - self._tokens(key, now)) / self.rate)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)


def source_of(remote: str | None) -> str | None:
    """The source a budget is kept for: the address, or its /64 for IPv6 (each subscriber has 2^64)."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return remote
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:   # a dual-stack socket's IPv4 caller
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
