"""The delivery ledger: each outbound message's latest send state, in a compacted, expiring topic.

`deliver` writes `sending` before the first platform call and `sent`/`failed` after the last, so a
message already sent by this or another (crashed) instance is never sent again blindly. Each
instance keeps what it has read in a local RocksDB (`ledger_store.py`, under
`<data_dir>/delivery-ledger/<instance>`) together with the offset of each ledger partition it has
applied, so a restart reads only the records written since, not the topic's history; it reads
that tail at start and after every partition assignment (another instance may have written).

Entries expire after a horizon (`SWITCHBOARD_LEDGER_HORIZON_HOURS`, 7 days: WhatsApp redelivers
for 7 days, and `outbound-approved` keeps a message a week; no retry of ours lasts that long).
The local store drops them by its time-ordered index. The topic agrees by its own policy,
`compact,delete` with a week's retention, rather than by tombstones written at expiry: every
instance keeps the whole ledger, so each would write a tombstone for every id (and an instance
that is down would write none); Kafka drops whole segments older than the week by itself, and
compaction keeps one record per id within it, so a fresh instance reading the topic learns what
a running one keeps. Tombstones on the topic (an erasure) remove the entry here too.
"""
from __future__ import annotations

import logging
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient

from schemas import Codec, DecodeError, topic
from switchboard.kafka import CLIENT_LOG, consumer

from .ledger_store import LedgerStore

LEDGER = topic("delivery-ledger").name
HORIZON_S = 7 * 24 * 3600.0
EXPIRE_EVERY_S = 60.0  # between expiry passes while delivering (each reads only what expires)
# Answers while a partition has no leader yet, or another one (librdkafka may not flag them retriable).
LEADER_MOVING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}
log = logging.getLogger(__name__)


class Ledger:
    """outbound id → latest delivery-attempt state, caught up from the topic from where it stopped.

    `path`: the instance's own store directory; None gives a throw-away one (read from the start,
    as a new instance would: tests and one-off tools). `clock` in seconds, like `time.time`.
    """

    def __init__(self, client_config: dict, codec: Codec, path: Path | None = None, *,
                 horizon_s: float = HORIZON_S, clock=time.time, topic_name: str = LEDGER):
        self.codec, self.topic, self.horizon_s, self.clock = codec, topic_name, horizon_s, clock
        self._scratch = None if path is not None else tempfile.TemporaryDirectory(prefix="delivery-ledger-")
        self.store = LedgerStore(Path(self._scratch.name) if self._scratch else path)
        # Never commits; short fetch waits so a read-to-the-end takes milliseconds, not seconds.
        self._consumer = consumer(client_config, f"deliver-ledger-{uuid.uuid4().hex}", **{"fetch.wait.max.ms": 10})
        parts = self._consumer.list_topics(topic_name, timeout=10).topics[topic_name].partitions
        self._parts = sorted(parts)
        # Offsets are stored per incarnation of the topic: one deleted and created again starts at 0.
        self._incarnation = f"{topic_name}:{_topic_id(client_config, topic_name)}"
        self._next = self._resume_points()
        self._consumer.assign([TopicPartition(topic_name, p, at) for p, at in self._next.items()])
        self._expired_at = float("-inf")

    def _resume_points(self) -> dict[int, int]:
        """Each partition's stored next offset, kept within what the topic still holds."""
        stored, points = self.store.offsets(self._incarnation, self._parts), {}
        for p in self._parts:
            low, high = self._watermarks(p)
            at = stored.get(p, low)
            if at > high:  # offsets restarted under the same id (a broker without topic ids): read it whole
                log.warning("%s[%d] ends at %d, before our stored offset %d: reading it again", self.topic, p, high, at)
                at = low
            points[p] = max(at, low)  # below `low`: retention dropped those records, as we expire them
        return points

    def _watermarks(self, partition: int, timeout: float = 10.0) -> tuple[int, int]:
        """(low, high) of a partition; a leader moving (a new topic, a broker restart) is waited out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=timeout)
            except KafkaException as exc:
                error = exc.args[0]
                if not (error.retriable() or error.code() in LEADER_MOVING) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def catch_up(self, timeout: float = 30.0) -> int:
        """Read the topic from where this store stopped up to its current end; returns records read.

        TimeoutError after `timeout` seconds without a record (a first read of a long ledger may
        take longer than that, as long as it moves)."""
        ends = {p: self._watermarks(p)[1] for p in self._parts}
        read, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The consumer's position, not the last record seen: transaction markers take offsets too.
            at = {tp.partition: tp.offset if tp.offset >= 0 else self._next[tp.partition]
                  for tp in self._consumer.position([TopicPartition(self.topic, p) for p in self._parts])}
            if all(at[p] >= ends[p] for p in self._parts):
                self._applied(at)
                self.expire()
                return read
            messages = self._consumer.consume(1000, 0.05)
            if messages:
                read += self._apply(messages)
                deadline = time.monotonic() + timeout
        raise TimeoutError(f"{self.topic}: nothing read for {timeout} s before its end")

    def _apply(self, messages) -> int:
        """Stage each record's state, then write them with the offsets they reach, in one batch."""
        read, cutoff, reached = 0, self._cutoff_ms(), {}
        for msg in messages:
            if msg.error() is not None:
                log.warning("%s: %s", self.topic, msg.error())
                continue
            read += self._stage(msg, cutoff)
            reached[msg.partition()] = msg.offset() + 1
        self._applied(reached)
        return read

    def _stage(self, msg, cutoff: int) -> int:
        if msg.value() is None:  # a tombstone (an erasure): forgotten here as on the topic
            self.store.delete(msg.key().decode())
            return 1
        try:
            attempt = self.codec.decode(msg.value(), "delivery-attempt")
        except DecodeError as exc:  # not ours to fix here; the entry is skipped, loudly
            log.error("%s[%d]@%d is not a delivery-attempt: %s", self.topic, msg.partition(), msg.offset(), exc)
            return 0
        if _ms(attempt["updated_at"]) >= cutoff:  # older ones would expire at once
            self.store.put(attempt["outbound_id"], attempt["state"], _ms(attempt["updated_at"]))
        return 1

    def _applied(self, reached: dict[int, int]) -> None:
        for p, offset in reached.items():
            self._next[p] = offset
            self.store.offset(self._incarnation, p, offset)
        self.store.commit()

    def remember(self, attempt: dict) -> None:
        """Take an attempt this process wrote (or read) as the latest state of its message."""
        self.store.put(attempt["outbound_id"], attempt["state"], _ms(attempt["updated_at"]))
        self.store.commit()
        if self.clock() - self._expired_at >= EXPIRE_EVERY_S:
            self.expire()

    def state(self, outbound_id: str) -> str | None:
        """`sending`, `sent`, `failed` or None when the message was never attempted (or expired)."""
        entry = self.store.state(outbound_id)
        return entry[0] if entry else None

    def expire(self) -> int:
        """Forget the messages last updated before the horizon; returns how many."""
        self._expired_at = self.clock()
        gone = self.store.expire(self._cutoff_ms())
        if gone:
            log.info("ledger: %d entries older than %.0f h expired", gone, self.horizon_s / 3600)
        return gone

    def _cutoff_ms(self) -> int:
        return int((self.clock() - self.horizon_s) * 1000)

    def close(self) -> None:
        """Release the reader and the store."""
        self._consumer.close()
        self.store.close()
        if self._scratch is not None:
            self._scratch.cleanup()


def _topic_id(client_config: dict, topic_name: str) -> str:
    """The broker's id of the topic (Kafka ≥ 2.8 gives every topic a UUID when it is created)."""
    admin = AdminClient({**client_config, "logger": CLIENT_LOG})
    return str(admin.describe_topics(TopicCollection([topic_name]))[topic_name].result(10).topic_id)


def _ms(at: int | datetime) -> int:
    """Milliseconds of an `updated_at` as written (int) or as decoded (timestamp-millis → datetime)."""
    return at if isinstance(at, int) else int(at.timestamp() * 1000)
