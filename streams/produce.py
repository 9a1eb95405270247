"""Producing from a faust agent: send a list of records and wait until the broker acknowledged all."""
from __future__ import annotations

import asyncio
import logging

from streams.app import app

log = logging.getLogger(__name__)

SEND_ATTEMPTS, FIRST_BACKOFF_S = 7, 0.2  # ~25 s of broker trouble before giving up

Record = tuple[str, bytes | None, bytes | None, list | None]  # topic, key, value, headers


class ProduceFailed(RuntimeError):
    """The broker did not acknowledge a batch within every attempt."""


async def send_all(records: list[Record], attempts: int = SEND_ATTEMPTS, backoff_s: float = FIRST_BACKOFF_S) -> None:
    """Send and await every ack; retry the whole list on broker trouble (deterministic ids make
    resends harmless); ProduceFailed when it keeps failing."""
    for attempt in range(attempts):
        try:
            futures = [await app.producer.send(t, k, v, partition=None, timestamp=None, headers=h)
                       for t, k, v, h in records]
            await asyncio.gather(*futures)
            return
        except Exception as exc:  # aiokafka's KafkaError family, timeouts: transient by nature
            log.warning("producing %d records failed (attempt %d): %r", len(records), attempt + 1, exc)
            await asyncio.sleep(backoff_s * 2 ** attempt)
    raise ProduceFailed(f"cannot produce {len(records)} records after {attempts} attempts")
