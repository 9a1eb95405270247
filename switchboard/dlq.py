"""The one dead-letter path: original bytes to `<topic>-dlq`, provenance in headers."""
from __future__ import annotations

import time
from typing import NamedTuple

from schemas import topic


class DeadLetter(NamedTuple):
    """A dead letter ready to produce: the DLQ topic, the original key and bytes, headers."""

    topic: str
    key: bytes | str | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def dlq_headers(source_topic: str, *, stage: str, error: str, partition: int | None = None,
                offset: int | None = None, now_ms: int | None = None) -> list[tuple[str, bytes]]:
    """Provenance headers for a dead letter: where it came from, which stage refused it, why, when."""
    headers = {"source.topic": source_topic, "stage": stage, "error": error[:2000],
               "time": str(now_ms if now_ms is not None else int(time.time() * 1000))}
    if partition is not None:
        headers["source.partition"] = str(partition)
    if offset is not None:
        headers["source.offset"] = str(offset)
    return [(name, value.encode()) for name, value in headers.items()]


def dlq_topic(source_topic: str) -> str:
    """The declared dead-letter topic of `source_topic`."""
    name = topic(source_topic).dlq
    if name is None:
        raise ValueError(f"topic {source_topic!r} declares no dead-letter topic")
    return name


def dead_letter_record(source_topic: str, key: bytes | str | None, value: bytes | None, *, stage: str,
                       error: str, partition: int | None = None, offset: int | None = None,
                       headers: list[tuple[str, bytes]] | None = None, now_ms: int | None = None) -> DeadLetter:
    """The dead letter of one refused record: original key, bytes and headers, plus provenance."""
    provenance = dlq_headers(source_topic, stage=stage, error=error, partition=partition, offset=offset,
                             now_ms=now_ms)
    return DeadLetter(dlq_topic(source_topic), key, value, list(headers or []) + provenance)


def dead_letter(producer, source_topic: str, key: bytes | str | None, value: bytes, **provenance) -> None:
    """Produce `value` unchanged to the source topic's DLQ (the caller flushes/awaits delivery)."""
    producer.produce(dlq_topic(source_topic), key=key, value=value,
                     headers=dlq_headers(source_topic, **provenance))
