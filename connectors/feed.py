"""One socket's outgoing frames: events from a tailed topic, each once, in offset order.

Shared by the agent page's socket (`workspace.hub`) and the widget's (`webmessaging.hub`): a socket
that reconnects with `since` registers first (live events are held), is replayed from Kafka, and
then gets what was held — the replay and the live feed overlap at the switch-over, and the offset
check sends each event once.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

Item = tuple[int, int, dict]   # (partition, offset, decoded event)


def event_id(partition: int, offset: int) -> str:
    """The id a client acknowledges and reconnects with: `<partition>-<offset>`."""
    return f"{partition}-{offset}"


def parse_event_id(text: str, partitions: int) -> tuple[int, int]:
    """`<partition>-<offset>` -> (partition, offset); ValueError otherwise."""
    partition, sep, offset = text.partition("-")
    if not sep or not partition.isdigit() or not offset.isdigit() or int(partition) >= partitions:
        raise ValueError(f"bad event id {text!r}: expected <partition>-<offset> from an event's `id`")
    return int(partition), int(offset)


class Feed:
    """A queue of frames; events are deduplicated by offset and held while a replay runs."""

    def __init__(self, since: tuple[int, int] | None, frame: Callable[[int, int, dict], object],
                 queue: asyncio.Queue | None = None):
        self.queue: asyncio.Queue = asyncio.Queue() if queue is None else queue   # a socket's one outbox
        self.last: dict[int, int] = {since[0]: since[1]} if since else {}
        self.held: list[Item] | None = [] if since else None   # live events that arrive during a replay
        self._frame = frame

    def push(self, item: Item) -> None:
        """A live event: held while replaying, else queued."""
        if self.held is not None:
            self.held.append(item)
        else:
            self._queue(item)

    def replayed(self, items: list[Item]) -> None:
        """Queue the replay, then what was held, each event once and in offset order."""
        for item in items + (self.held or []):
            self._queue(item)
        self.held = None

    def _queue(self, item: Item) -> None:
        partition, offset, event = item
        if offset <= self.last.get(partition, -1):
            return  # the replay and the live feed overlap at the switch-over: send it once
        self.last[partition] = offset
        self.queue.put_nowait(self._frame(partition, offset, event))
