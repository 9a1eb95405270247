"""Counts what flowed through the catalogue's topics since a point in time (for `make run`'s summary)."""
from __future__ import annotations

import threading
import time
from collections import Counter

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, DecodeError, catalogue

POLL_SECONDS = 0.2
DRAIN_SECONDS = 10.0


class FlowCounter:
    """A background consumer of every catalogue topic from `since_ms`, counting records per topic
    and per channel (from the decoded value's `channel` field)."""

    def __init__(self, bootstrap: str, since_ms: int, client_config: dict | None = None):
        self._consumer = Consumer({**(client_config or {}), "bootstrap.servers": bootstrap,
                                   "group.id": f"switchboard-run-summary-{since_ms}",
                                   "enable.auto.commit": False})
        self._since_ms = since_ms
        self._codec = Codec()
        self._next: dict[tuple[str, int], int] = {}  # next offset to count, per partition
        self.by_topic: Counter[str] = Counter()
        self.by_channel: Counter[tuple[str, str]] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flow-counter", daemon=True)

    def start(self) -> None:
        """Assign every partition at the first offset written since `since_ms`, start counting."""
        meta = self._consumer.list_topics(timeout=10)
        wanted = [TopicPartition(name, p, self._since_ms) for name in catalogue()
                  if name in meta.topics for p in meta.topics[name].partitions]
        found = self._consumer.offsets_for_times(wanted, timeout=10)
        for tp in found:  # -1: nothing written since then, so start at today's end
            tp.offset = tp.offset if tp.offset >= 0 else self._high(tp)
            self._next[(tp.topic, tp.partition)] = tp.offset
        self._consumer.assign(found)
        self._thread.start()

    def stop(self) -> dict:
        """Count what was written until now, stop, and return the summary."""
        self._stop.set()
        self._thread.join()
        self._consumer.close()
        return self.summary()

    def summary(self) -> dict:
        """{"events": {topic: n}, "channels": {topic: {channel: n}}, "dead_letters": n}."""
        channels: dict[str, dict[str, int]] = {}
        for (topic_name, channel), n in sorted(self.by_channel.items()):
            channels.setdefault(topic_name, {})[channel] = n
        dead = sum(n for t, n in self.by_topic.items() if catalogue()[t].is_dlq)
        return {"events": dict(sorted(self.by_topic.items())), "channels": channels, "dead_letters": dead}

    def _high(self, tp: TopicPartition) -> int:
        return self._consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=5)[1]

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._consume_batch()
        ends = {key: self._high(TopicPartition(*key)) for key in self._next}
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
        if topic.is_dlq:
            return
        try:
            channel = self._codec.decode(message.value()).get("channel")
        except DecodeError:
            return
        if channel:
            self.by_channel[(topic.name, channel)] += 1
