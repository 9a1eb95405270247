"""What reaches the widget through Kafka: `webmessaging-events` tailed live by every edge replica,
pushed to the guest sockets this replica holds, and replayed from Kafka after a reconnect.

Deliver hands an agent's message to any replica (`deliveries.py`), which publishes it here; the one
holding the visitor's socket pushes it. A reconnecting widget sends `since` (the last event id it
saw): its socket registers first, the partition is read from there to its end, and `connectors.feed`
sends each event once across the switch-over. Everything but the tailer's thread runs on the loop.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from connectors.feed import Feed, Item, event_id
from schemas import plain, topic
from switchboard.kafka import TopicFollower, read_range

log = logging.getLogger("switchboard.webmessaging")
EVENTS = topic("webmessaging-events")
REPLAYED = ("message",)   # typing is only worth showing live

@dataclass(frozen=True)
class Push:
    """A guest event for one socket, rendered (media signed) by the socket's writer."""

    id: str
    event: dict

class Guest(Feed):
    """One widget socket's guest events, once each (by offset), into the socket's one outbox."""

    def __init__(self, deployment_id: str, session_id: str, since: tuple[int, int] | None, outbox: asyncio.Queue):
        super().__init__(since, lambda partition, offset, e: Push(event_id(partition, offset), e), outbox)
        self.deployment_id, self.session_id = deployment_id, session_id


def decoded(codec, messages) -> list[Item]:
    """Records of webmessaging-events as (partition, offset, event); unreadable ones logged and left out."""
    items = []
    for m in messages:
        try:
            items.append((m.partition(), m.offset(), plain(codec.decode(m.value(), "web-guest-event"))))
        except Exception as exc:
            log.warning("unreadable %s record %d-%d: %s", EVENTS.name, m.partition(), m.offset(), exc)
    return items

class GuestHub:
    """The guest sockets of this process by (deployment, session id), fed by the tailer."""

    def __init__(self, client_config: dict, codec):
        self.client_config, self.codec = client_config, codec
        self.guests: dict[tuple[str, str], set[Guest]] = {}
        self._follower: TopicFollower | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tail webmessaging-events from its end (live) into this hub."""
        def hand_over(messages):
            items = decoded(self.codec, messages)
            if items:
                loop.call_soon_threadsafe(self.deliver, items)
        self._follower = TopicFollower(self.client_config, EVENTS.name, EVENTS.partitions, hand_over, from_end=True)
        self._follower.start()

    def wait_ready(self, timeout: float) -> bool:
        """Whether the tailer has reached the topic's end (pushes from then on are live)."""
        return self._follower is not None and self._follower.ready.wait(timeout)

    def close(self) -> None:
        """Stop tailing."""
        if self._follower is not None:
            self._follower.close()

    def deliver(self, items: list[Item]) -> None:
        """A batch from the tailer (loop thread)."""
        for item in items:
            event = item[2]
            for guest in self.guests.get((event["deployment_id"], event["session_id"]), ()):
                guest.push(item)

    def attach(self, guest: Guest) -> None:
        """Register `guest`: live events reach it from now on (held until `replay` when it has a `since`)."""
        self.guests.setdefault((guest.deployment_id, guest.session_id), set()).add(guest)

    async def replay(self, guest: Guest, since: tuple[int, int]) -> None:
        """Its events after `since` from Kafka, then what was held meanwhile (each once)."""
        partition, offset = since
        found = await asyncio.to_thread(read_range, self.client_config, EVENTS.name, partition, offset + 1)
        guest.replayed([i for i in decoded(self.codec, found) if _for(i[2], guest) and i[2]["type"] in REPLAYED])

    def detach(self, guest: Guest) -> None:
        """Forget `guest`."""
        held = self.guests.get((guest.deployment_id, guest.session_id), set())
        held.discard(guest)
        if not held:
            self.guests.pop((guest.deployment_id, guest.session_id), None)

    def connected(self) -> int:
        """Guest sockets held right now."""
        return sum(len(g) for g in self.guests.values())

    def each(self) -> list[Guest]:
        """Every guest socket held (for the periodic checks)."""
        return [g for held in self.guests.values() for g in held]


def _for(event: dict, guest: Guest) -> bool:
    return event["deployment_id"] == guest.deployment_id and event["session_id"] == guest.session_id
