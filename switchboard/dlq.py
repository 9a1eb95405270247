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


# The provenance headers `dlq_headers` writes; replay strips exactly these.
PROVENANCE = frozenset({"source.topic", "source.partition", "source.offset", "stage", "error", "time"})


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


def original_headers(headers: list[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    """A dead letter's headers without the provenance it was given: the refused record's own.

    `dead_letter_record` appends the provenance after the original headers, so only that trailing
    run is removed, each name once: an original header that happens to be named `time` stays.
    """
    kept, seen = list(headers or []), set()
    while kept and kept[-1][0] in PROVENANCE and kept[-1][0] not in seen:
        seen.add(kept.pop()[0])
    return kept


def produce_acked(producer, records, timeout: float = 30.0) -> None:
    """Produce (topic, key, value, headers) records, e.g. `DeadLetter`s; return once the broker has
    acknowledged every one, RuntimeError otherwise (so the caller neither commits nor answers)."""
    failures = []

    def report(err, _msg) -> None:
        if err is not None:
            failures.append(err)
    for name, key, value, headers in records:
        producer.produce(name, key=key, value=value, headers=headers, on_delivery=report)
    unsent = producer.flush(timeout)
    if unsent or failures:
        raise RuntimeError(f"the broker did not acknowledge {unsent + len(failures)} record(s): "
                           f"{failures[0] if failures else 'timed out'}")
