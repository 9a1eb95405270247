"""Producing from a faust agent: send records and wait for the broker's acks, retried in place."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple, TypeVar

from streams.app import app

log = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS, FIRST_BACKOFF_S = 7, 0.2  # ~25 s of broker trouble before giving up



class Record(NamedTuple):
    """An encoded record to produce; `partition` None lets the producer's partitioner choose."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None


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


async def send_all(records: list[Record], attempts: int = SEND_ATTEMPTS, backoff_s: float = FIRST_BACKOFF_S) -> None:
    """Send and await every ack; the whole list is resent on broker trouble (deterministic ids make
    resends harmless); ProduceFailed when it keeps failing."""
    if not records:
        return
    try:
        await retry(lambda: _send(records), attempts=attempts, backoff_s=backoff_s,
                    what=f"producing {len(records)} records")
    except Exception as exc:  # aiokafka's KafkaError family, timeouts: transient by nature
        raise ProduceFailed(f"cannot produce {len(records)} records after {attempts} attempts: {exc!r}") from exc


async def _send(records: list[Record]) -> None:
    futures = [await app.producer.send(r.topic, r.key, r.value, partition=r.partition, timestamp=None,
                                       headers=r.headers) for r in records]
    await asyncio.gather(*futures)
