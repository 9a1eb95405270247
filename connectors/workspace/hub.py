"""The push hub of one edge process: the sockets it holds by agent, fed by the tailer.

Everything here runs on the event loop thread (the tailer hands batches over with
`call_soon_threadsafe`), so `next_offset` and the sessions change in one order: a session that
registers sees every later event live, and a replay covers exactly what came before.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from connectors.feed import Feed, Item, event_id

from .book import Book


class Session(Feed):
    """One page's socket: a queue of events to send, deduplicated by offset (connectors.feed)."""

    def __init__(self, tenant: str, agent: str, since: tuple[int, int] | None):
        super().__init__(since, lambda partition, offset, event: {"id": event_id(partition, offset), **event})
        self.tenant, self.agent = tenant, agent
        self.acked: str | None = None


class Hub:
    """Sockets of this process by (tenant, agent); applies every event to the book, then pushes."""

    def __init__(self, book: Book, replay: Callable[[int, int, int, str, str], list[Item]]):
        self.book, self.replay = book, replay
        self.sessions: dict[tuple[str, str], set[Session]] = {}
        self.next_offset: dict[int, int] = {}    # per partition: every offset below was delivered

    def deliver(self, items: list[Item]) -> None:
        """A batch from the tailer (loop thread)."""
        for partition, offset, event in items:
            self.book.apply(event, event_id(partition, offset))
            self.next_offset[partition] = offset + 1
            for session in self.sessions.get((event["tenant_id"], event["agent_id"]), ()):
                session.push((partition, offset, event))

    async def attach(self, session: Session, since: tuple[int, int] | None) -> None:
        """Register `session`; with `since`, replay (since, where the tailer is) from Kafka first."""
        self.sessions.setdefault((session.tenant, session.agent), set()).add(session)
        if since is None:
            return
        partition, offset = since
        end = self.next_offset.get(partition, 0)
        items = await asyncio.to_thread(self.replay, partition, offset + 1, end, session.tenant, session.agent)
        session.replayed(items)

    def detach(self, session: Session) -> bool:
        """Forget `session`; True when it was the agent's last socket on this process."""
        held = self.sessions.get((session.tenant, session.agent), set())
        held.discard(session)
        if not held:
            self.sessions.pop((session.tenant, session.agent), None)
        return not held

    def connected(self) -> int:
        """Sockets held right now."""
        return sum(len(s) for s in self.sessions.values())
