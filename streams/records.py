"""What every stream processor's pure functions return: records to produce, and event times.

One `Output` type for all of `streams/`: the pure cores (threading, policy, identity, the ACD)
return these with a dict value and an Avro subject; the processor contract (`streams/processor.py`)
encodes them with the role's codec. A dead letter is an `Output` whose value is the original bytes
(`subject` None) with provenance headers.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Output(NamedTuple):
    """One record to produce: catalogue topic, key, Avro subject (None: `value` is raw bytes), value."""

    topic: str
    key: str | bytes | None
    subject: str | None
    value: dict | bytes | None
    headers: list[tuple[str, bytes]] | None = None


def millis(value: datetime | int) -> int:
    """Epoch milliseconds of an Avro timestamp-millis value (decoded as a datetime, or already int)."""
    return value if isinstance(value, int) else int(value.timestamp() * 1000)
