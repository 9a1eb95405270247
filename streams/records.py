"""What every stream processor's pure functions return: records to produce, and event times.

One `Output` type for all of `streams/`: the pure cores (threading, policy, identity, the ACD)
return these with a dict value and an Avro subject; the processor contract (`streams/processor.py`)
encodes them with the role's codec (`encoded`) into the same type with raw bytes and no subject,
which is what `streams.produce.send_all` sends. A dead letter is an encoded `Output` of the
original bytes with provenance headers.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Output(NamedTuple):
    """One record to produce: catalogue topic, key, Avro subject (None: `value` is raw bytes), value;
    `partition` None lets the producer's partitioner choose; `timestamp` (seconds) None: now."""

    topic: str
    key: str | bytes | None
    subject: str | None
    value: dict | bytes | None
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None
    timestamp: float | None = None

    def encoded(self, codec) -> "Output":
        """This record as bytes: the key UTF-8, the value in the codec's wire format."""
        key = self.key.encode() if isinstance(self.key, str) else self.key
        value = self.value if self.subject is None else codec.encode(self.subject, self.value)
        return self._replace(key=key, subject=None, value=value)


def millis(value: datetime | int) -> int:
    """Epoch milliseconds of an Avro timestamp-millis value (decoded as a datetime, or already int)."""
    return value if isinstance(value, int) else int(value.timestamp() * 1000)
