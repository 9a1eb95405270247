"""`agent-notifications` read two ways: a tailer of every partition (live), and a bounded replay.

Each edge replica tails all partitions from the start of the topic with `assign` (no consumer
group: every replica must see every event, docs/architecture.md "How a push reaches the agent's
socket"). A reconnecting page is replayed from Kafka by a short-lived consumer that reads one
partition from `since + 1` up to where the tailer had got when the socket registered.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from confluent_kafka import TopicPartition

from schemas import plain, topic
from switchboard.kafka import TopicFollower, consumer

log = logging.getLogger("switchboard.workspace")
NOTIFICATIONS = topic("agent-notifications")
Item = tuple[int, int, dict]   # (partition, offset, decoded agent-event)
BATCH = 500


def event_id(partition: int, offset: int) -> str:
    """The id the page acknowledges: `<partition>-<offset>`."""
    return f"{partition}-{offset}"


def parse_event_id(text: str) -> tuple[int, int]:
    """`<partition>-<offset>` -> (partition, offset); ValueError otherwise."""
    partition, sep, offset = text.partition("-")
    if not sep or not partition.isdigit() or not offset.isdigit() or int(partition) >= NOTIFICATIONS.partitions:
        raise ValueError(f"bad event id {text!r}: expected <partition>-<offset> from an event's `id`")
    return int(partition), int(offset)


class Tailer:
    """Every partition from the beginning, then live, decoded and handed in batches to `on_batch`."""

    def __init__(self, client_config: dict, codec, on_batch: Callable[[list[Item]], None]):
        self.codec, self.on_batch = codec, on_batch
        self.follower = TopicFollower(client_config, NOTIFICATIONS.name, NOTIFICATIONS.partitions, self._decode,
                                      batch=BATCH)
        self.ready = self.follower.ready

    def start(self) -> None:
        """Begin reading (on_batch is called from the follower's thread)."""
        self.follower.start()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the tailer read everything that was on the topic at start within `timeout`."""
        return self.ready.wait(timeout)

    def close(self) -> None:
        """Stop reading."""
        self.follower.close()

    def _decode(self, messages) -> None:
        items = [item for m in messages for item in _decoded(self.codec, m)]
        if items:
            self.on_batch(items)


def replay(client_config: dict, codec, partition: int, start: int, end: int, tenant: str, agent: str,
           timeout: float = 10.0) -> list[Item]:
    """The agent's events of `partition` with start <= offset < end, read from Kafka."""
    if start >= end:
        return []
    c = consumer(client_config, f"workspace-replay-{uuid.uuid4().hex[:8]}")
    c.assign([TopicPartition(NOTIFICATIONS.name, partition, start)])
    found, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            if m.offset() >= end:
                break
            found += [i for i in _decoded(codec, m) if i[2]["tenant_id"] == tenant and i[2]["agent_id"] == agent]
            if m.offset() >= end - 1:
                break
        else:
            log.warning("replay of %s-%d..%d stopped after %.0f s", NOTIFICATIONS.name, start, end, timeout)
    finally:
        c.close()
    return found


def _decoded(codec, m) -> list[Item]:
    try:
        return [(m.partition(), m.offset(), plain(codec.decode(m.value(), "agent-event")))]
    except Exception as exc:  # a record we cannot read is the sink's dead letter, not the page's problem
        log.warning("unreadable agent-notifications record %d-%d: %s", m.partition(), m.offset(), exc)
        return []
