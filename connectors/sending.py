"""One platform request, sent with bounded retries: backoff with jitter, Retry-After honoured."""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import aiohttp

from .base import PlatformRequest, SendResult
from .faults import armed as send_fault


NO_ANSWER = ("connect", "no_answer")   # the error codes of `_call` when the platform did not answer


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
               *, sleep=asyncio.sleep, rand=random.random) -> tuple[SendResult, int]:
    """The final result for `request` and how many calls it took."""
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
