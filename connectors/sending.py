"""One platform request, sent with bounded retries: backoff with jitter, Retry-After honoured; and
the outside-target guard: nothing leaves this machine unless a setting allows it."""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from .base import PlatformRequest, SendResult
from .faults import armed as send_fault


NO_ANSWER = ("connect", "no_answer")   # the error codes of `_call` when the platform did not answer
ALLOW_OUTSIDE = "SWITCHBOARD_ALLOW_OUTSIDE_TARGETS"
# Channels whose requests go to the project's own services, not to a platform: web's deliveries
# are a signed POST to our edge (SWITCHBOARD_WEBMESSAGING_EDGE_URL, e.g. http://edge:8080 in compose),
# an internal hop the operator configured, never an outside target.
INTERNAL = frozenset({"web"})
log = logging.getLogger("switchboard.sending")


class OutsideTarget(aiohttp.ClientError):
    """A request the outside-target guard refused before connecting (`guard`)."""


def startup_line(allowed: bool) -> str:
    """The one line a sending role prints at start: where its requests may go, and the setting."""
    if allowed:
        return f"outside targets allowed ({ALLOW_OUTSIDE}=true): requests go to the accounts' real platform APIs"
    return (f"outside targets refused: requests go to loopback addresses only (the simulators); "
            f"set {ALLOW_OUTSIDE}=true to reach the platforms")


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine: `localhost` (and `*.localhost`, RFC 6761) or a loopback address.
    A name is never resolved: a DNS answer cannot turn a platform's host into an allowed one."""
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(url: str, allowed: bool) -> SendResult | None:
    """Why `url` may not be called (a permanent failure naming the fix), or None.

    Loopback: always (http or https). Elsewhere only when outside targets are allowed, and only
    over https: a token or a signed message never crosses a network in clear (an Open Messaging
    integration on http:// must run on this machine).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return SendResult(ok=False, error_code="bad_target", reason=f"not an http(s) URL: {url[:80]!r} "
                          "(check the account's api_base_url / outbound_url)")
    if is_loopback(parts.hostname):
        return None
    if not allowed:
        return SendResult(ok=False, error_code="outside_target", reason=f"{parts.hostname} is outside this "
                          f"machine and outside targets are refused: set {ALLOW_OUTSIDE}=true to send to it")
    if parts.scheme != "https":
        return SendResult(ok=False, error_code="insecure_target", reason=f"http://{parts.hostname} is refused: "
                          "use https:// (plain http only to a loopback address)")
    return None


def guard(allowed: bool):
    """An aiohttp client middleware refusing what `refusal` refuses, for every request of a session
    (`aiohttp.ClientSession(middlewares=(guard(allowed),))`): platform syncs and media fetches too."""
    async def middleware(request: aiohttp.ClientRequest, handler):
        refused = refusal(str(request.url), allowed)
        if refused is not None:
            raise OutsideTarget(refused.reason)
        return await handler(request)
    return middleware


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per request, exponential backoff with full jitter, waits capped."""

    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    max_wait_s: float = 120.0     # a longer Retry-After / rate-limit reset fails the message instead
    timeout_s: float = 10.0       # per HTTP call


def backoff(policy: RetryPolicy, attempt: int, retry_after: float | None, rand: float) -> float:
    """Seconds before retry number `attempt` (1-based): the platform's wait, else jittered exponential."""
    if retry_after is not None:
        return retry_after
    return min(policy.cap_s, policy.base_s * 2 ** (attempt - 1)) * (0.5 + rand / 2)


async def send(session: aiohttp.ClientSession, connector, request: PlatformRequest, policy: RetryPolicy,
               *, sleep=asyncio.sleep, rand=random.random, allow_outside: bool = False) -> tuple[SendResult, int]:
    """The final result for `request` and how many calls it took (0: the guard refused it, nothing was sent).
    `allow_outside`: the process's `settings.allow_outside_targets` (loopback only unless it is set)."""
    refused = None if getattr(connector, "channel", None) in INTERNAL else refusal(request.url, allow_outside)
    if refused is not None:
        log.warning("%s: %s", getattr(connector, "channel", "?"), refused.reason)
        return refused, 0
    attempt = 0
    while True:
        attempt += 1
        result = await _call(session, connector, request, policy)
        if result.error_code not in NO_ANSWER:   # the fault tier's kill point (connectors/faults.py)
            send_fault().answered(getattr(connector, "channel", ""))
        if result.ok or not result.retriable:
            return result, attempt
        wait = backoff(policy, attempt, result.retry_after, rand())
        if attempt >= policy.attempts or wait > policy.max_wait_s:
            return SendResult(ok=False, error_code=result.error_code, reason=f"gave up after {attempt} attempts: "
                              f"{result.reason}"), attempt
        await sleep(wait)


async def _call(session, connector, request: PlatformRequest, policy: RetryPolicy) -> SendResult:
    timeout = aiohttp.ClientTimeout(total=policy.timeout_s)
    try:
        async with session.request(request.method, request.url, headers=request.headers, json=request.json,
                                   data=request.body, timeout=timeout) as response:
            body = await response.read()
            return connector.result_of(request, response.status, response.headers, body)
    except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent, safe to retry
        return SendResult(ok=False, retriable=True, error_code="connect", reason=f"cannot connect: {exc}")
    except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
        # The request may have arrived. Resending is safe only where the platform dedupes it
        # (LINE retry key, Open Messaging id); elsewhere a resend could deliver the message twice.
        reason = f"no answer ({type(exc).__name__}): outcome unknown"
        return SendResult(ok=False, retriable=request.idempotent, error_code="no_answer",
                          reason=reason if request.idempotent else reason + ", not resent (no idempotency key)")
