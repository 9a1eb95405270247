"""`agent-notifications` read two ways: a tailer of every partition (live), and a bounded replay.

Each edge replica tails all partitions from the start of the topic with `assign` (no consumer
group: every replica must see every event, docs/architecture.md "How a push reaches the agent's
socket"). A reconnecting page is replayed from Kafka by a short-lived consumer that reads one
partition from `since + 1` up to where the tailer had got when the socket registered.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.feed import Item, event_id
from connectors.feed import parse_event_id as _parse
from schemas import plain, topic
from switchboard.kafka import TopicFollower, read_range

log = logging.getLogger("switchboard.workspace")
NOTIFICATIONS = topic("agent-notifications")
BATCH = 500
__all__ = ["Item", "event_id", "parse_event_id", "Tailer", "replay"]


def parse_event_id(text: str) -> tuple[int, int]:
    """`<partition>-<offset>` of agent-notifications -> (partition, offset); ValueError otherwise."""
    return _parse(text, NOTIFICATIONS.partitions)


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
    found = read_range(client_config, NOTIFICATIONS.name, partition, start, end, timeout)
    return [i for m in found for i in _decoded(codec, m) if i[2]["tenant_id"] == tenant and i[2]["agent_id"] == agent]


def _decoded(codec, m) -> list[Item]:
    try:
        return [(m.partition(), m.offset(), plain(codec.decode(m.value(), "agent-event")))]
    except Exception as exc:  # a record we cannot read is the sink's dead letter, not the page's problem
        log.warning("unreadable agent-notifications record %d-%d: %s", m.partition(), m.offset(), exc)
        return []
