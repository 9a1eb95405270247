"""Producing from a faust agent: send records and wait for the broker's acks, retried in place."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from streams.app import app
from streams.records import Output

log = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS, FIRST_BACKOFF_S = 7, 0.2  # ~25 s of broker trouble before giving up



class ProduceFailed(RuntimeError):
    """The broker did not acknowledge a batch within every attempt."""


async def retry(action: Callable[[], Awaitable[T]], *, attempts: int, backoff_s: float, what: str,
                retriable: Callable[[Exception], bool] = lambda exc: True,
                on_retry: Callable[[Exception], None] = lambda exc: None) -> T:
    """`action()`, retried on retriable errors with doubling backoff; the last error is raised."""
    for attempt in range(attempts):
        try:
            return await action()
        except Exception as exc:
            if attempt == attempts - 1 or not retriable(exc):
                raise
            log.warning("%s failed (attempt %d of %d): %r", what, attempt + 1, attempts, exc)
            on_retry(exc)
            await asyncio.sleep(backoff_s * 2 ** attempt)
    raise ValueError("attempts must be at least 1")


async def send_all(records: list[Output], attempts: int = SEND_ATTEMPTS, backoff_s: float = FIRST_BACKOFF_S) -> None:
    """Send encoded records (`Output.encoded`) and await every ack; the whole list is resent on
    broker trouble (deterministic ids make resends harmless); ProduceFailed when it keeps failing."""
    if not records:
        return
    if any(r.subject is not None for r in records):
        raise TypeError("send_all takes encoded records: call Output.encoded(codec) first")
    try:
        await retry(lambda: _send(records), attempts=attempts, backoff_s=backoff_s,
                    what=f"producing {len(records)} records")
    except Exception as exc:  # aiokafka's KafkaError family, timeouts: transient by nature
        raise ProduceFailed(f"cannot produce {len(records)} records after {attempts} attempts: {exc!r}") from exc


async def _send(records: list[Output]) -> None:
    futures = [await app.producer.send(r.topic, r.key, r.value, partition=r.partition, timestamp=r.timestamp,
                                       headers=r.headers) for r in records]
    await asyncio.gather(*futures)
