"""The delivery ledger: each outbound message's latest send state, kept in a compacted topic.

`deliver` writes `sending` before the first platform call and `sent`/`failed` after the last, and
reads the whole topic back at start and after every partition assignment, so a message already
sent by this or another (crashed) instance is never sent again blindly.
"""
from __future__ import annotations

import logging
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from schemas import Codec, DecodeError, topic
from switchboard.kafka import CONSUMER_DEFAULTS

LEDGER = topic("delivery-ledger").name
log = logging.getLogger(__name__)


class Ledger:
    """outbound id → latest delivery-attempt record, caught up from the topic on demand."""

    def __init__(self, client_config: dict, codec: Codec):
        self.codec = codec
        self.states: dict[str, dict] = {}
        # Never commits; short fetch waits so a read-to-the-end at start takes milliseconds, not seconds.
        self._consumer = Consumer({**CONSUMER_DEFAULTS, **client_config, "fetch.wait.max.ms": 10,
                                   "group.id": f"deliver-ledger-{uuid.uuid4().hex}"})
        parts = self._consumer.list_topics(LEDGER, timeout=10).topics[LEDGER].partitions
        self._parts = sorted(parts)
        self._consumer.assign([TopicPartition(LEDGER, p, OFFSET_BEGINNING) for p in self._parts])

    def catch_up(self, timeout: float = 30.0) -> int:
        """Read the topic up to its current end; returns how many entries were read."""
        ends = {p: self._consumer.get_watermark_offsets(TopicPartition(LEDGER, p), timeout=10)[1] for p in self._parts}
        read, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            positions = self._consumer.position([TopicPartition(LEDGER, p) for p in self._parts])
            if all(tp.offset >= ends[tp.partition] or (tp.offset < 0 and ends[tp.partition] == 0) for tp in positions):
                return read
            for msg in self._consumer.consume(1000, 0.05):
                if msg.error() is None and msg.value() is not None:
                    read += self._read(msg)
        raise TimeoutError(f"{LEDGER} not read to its end in {timeout} s")

    def _read(self, msg) -> int:
        try:
            self.remember(self.codec.decode(msg.value(), "delivery-attempt"))
            return 1
        except DecodeError as exc:  # not ours to fix here; the entry is skipped, loudly
            log.error("%s[%d]@%d is not a delivery-attempt: %s", LEDGER, msg.partition(), msg.offset(), exc)
            return 0

    def remember(self, attempt: dict) -> None:
        """Take an attempt this process wrote (or read) as the latest state of its message."""
        self.states[attempt["outbound_id"]] = attempt

    def state(self, outbound_id: str) -> str | None:
        """`sending`, `sent`, `failed` or None when the message was never attempted."""
        entry = self.states.get(outbound_id)
        return entry["state"] if entry else None

    def close(self) -> None:
        """Release the reader."""
        self._consumer.close()
