"""Counts what flowed through the catalogue's topics since a point in time (for `make run`'s summary)."""
from __future__ import annotations

import threading
import time
from collections import Counter

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from schemas import RAW, Codec, DecodeError, catalogue

POLL_SECONDS = 0.2
# The field that says what kind of record it is, by subject (first present wins).
KIND_FIELDS = ("type", "status", "state", "kind", "segment_type")
# What a broker that has just created its topics answers until every partition has a leader.
_ELECTING = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
             KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TIMED_OUT}
DRAIN_SECONDS = 10.0


class FlowCounter:
    """A background consumer of every catalogue topic from `since_ms`, counting records per topic,
    channel and kind (the decoded value's first present field of KIND_FIELDS)."""

    def __init__(self, bootstrap: str, since_ms: int, codec: Codec, client_config: dict | None = None):
        config = {**(client_config or {}), "bootstrap.servers": bootstrap}
        self._consumer = Consumer({**config, "group.id": f"switchboard-run-summary-{since_ms}",
                                   "enable.auto.commit": False})
        # Offsets are asked of a separate client: the consumer's connection is busy long-polling.
        self._admin = AdminClient(config)
        self._since_ms = since_ms
        self._codec = codec
        self._next: dict[tuple[str, int], int] = {}  # next offset to count, per partition
        self.by_topic: Counter[str] = Counter()
        self.by_channel: Counter[tuple[str, str]] = Counter()
        self.by_kind: Counter[tuple[str, str | None, str]] = Counter()  # (topic, channel, kind)
        self.by_agent: Counter[tuple[str, str, str]] = Counter()  # (topic, kind, agent id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flow-counter", daemon=True)

    def start(self) -> None:
        """Assign every partition at the first offset written since `since_ms`, start counting."""
        meta = self._consumer.list_topics(timeout=10)
        partitions = [(name, p) for name in catalogue() if name in meta.topics
                      for p in meta.topics[name].partitions]
        since = self._offsets(partitions, OffsetSpec.for_timestamp(self._since_ms))
        ends = self._offsets(partitions, OffsetSpec.latest())
        for key in partitions:  # -1: nothing written since then, so start at today's end
            self._next[key] = since[key] if since[key] >= 0 else ends[key]
        self._consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in self._next.items()])
        self._thread.start()

    def stop(self) -> dict:
        """Count what was written until now, stop, and return the summary."""
        self._stop.set()
        self._thread.join()
        self._consumer.close()
        return self.summary()

    def agents(self, topic_name: str, kind: str, among: set[str]) -> dict[str, int]:
        """Records of `kind` on a topic per agent, for the agents in `among`."""
        return {a: n for (t, k, a), n in self.by_agent.items() if t == topic_name and k == kind and a in among}

    def tally(self, topic_name: str, kind: str, channel: str | None = None) -> int:
        """How many records of `kind` (type/status/kind value) flowed on a topic, optionally per channel."""
        return sum(n for (t, c, k), n in self.by_kind.items()
                   if t == topic_name and k == kind and channel in (None, c))

    def summary(self) -> dict:
        """{"events": {topic: n}, "channels": {topic: {channel: n}}, "dead_letters": n}."""
        channels: dict[str, dict[str, int]] = {}
        for (topic_name, channel), n in sorted(self.by_channel.items()):
            channels.setdefault(topic_name, {})[channel] = n
        dead = sum(n for t, n in self.by_topic.items() if catalogue()[t].is_dlq)
        return {"events": dict(sorted(self.by_topic.items())), "channels": channels, "dead_letters": dead}

    def _offsets(self, partitions: list[tuple[str, int]], spec: OffsetSpec) -> dict[tuple[str, int], int]:
        """One offset per partition, in one request (retried while a new broker elects leaders)."""
        deadline = time.monotonic() + 15
        while True:
            futures = self._admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions},
                                               request_timeout=10)
            try:
                return {(tp.topic, tp.partition): f.result().offset for tp, f in futures.items()}
            except KafkaException as exc:
                if exc.args[0].code() not in _ELECTING or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._consume_batch()
        ends = self._offsets(list(self._next), OffsetSpec.latest())
        deadline = time.monotonic() + DRAIN_SECONDS
        while any(self._next[k] < end for k, end in ends.items()) and time.monotonic() < deadline:
            self._consume_batch()

    def _consume_batch(self) -> None:
        for message in self._consumer.consume(500, POLL_SECONDS):
            if message.error() is None:
                self._next[(message.topic(), message.partition())] = message.offset() + 1
                self._count(message)

    def _count(self, message) -> None:
        topic = catalogue()[message.topic()]
        self.by_topic[topic.name] += 1
        if topic.value == RAW or message.value() is None:  # dead letters are raw; tombstones carry nothing
            return
        try:
            record = self._codec.decode(message.value())
        except DecodeError:
            return
        channel = record.get("channel")
        if channel:
            self.by_channel[(topic.name, channel)] += 1
        kind = next((record[f] for f in KIND_FIELDS if record.get(f)), None)
        if kind:
            self.by_kind[(topic.name, channel, kind)] += 1
            if record.get("agent_id"):
                self.by_agent[(topic.name, kind, record["agent_id"])] += 1
