"""The hub's switch-over from a replay to the live feed: every event once, in order (no broker)."""
from __future__ import annotations

import asyncio

from connectors.workspace.book import Book
from connectors.workspace.hub import Hub, Session

from .events import scenario

TENANT = "t-hub"


def items(events: list[dict], partition: int = 1, first: int = 0) -> list[tuple]:
    return [(partition, first + i, e) for i, e in enumerate(events)]


def drained(session: Session) -> list[str]:
    found = []
    while not session.queue.empty():
        found.append(session.queue.get_nowait()["id"])
    return found


def test_a_reconnect_replays_what_was_missed_then_continues_live_without_duplicates():
    async def run():
        events = items(scenario(TENANT)["events"])
        replay_started, release = asyncio.Event(), asyncio.Event()
        hub = Hub(Book(), lambda p, start, end, t, a: [i for i in events if start <= i[1] < end])
        hub.deliver(events[:6])                          # the page saw up to 1-2, then dropped
        session = Session(TENANT, "ana", (1, 2))
        real_replay = hub.replay

        def slow_replay(*args):
            replay_started.set()
            return real_replay(*args)
        hub.replay = slow_replay
        attach = asyncio.create_task(hub.attach(session, (1, 2)))
        await replay_started.wait()
        hub.deliver(events[6:])                          # live events arrive while the replay runs
        await attach
        return drained(session)

    assert asyncio.run(run()) == [f"1-{o}" for o in range(3, 9)]


def test_a_page_ahead_of_this_replica_gets_nothing_twice():
    async def run():
        events = items(scenario(TENANT)["events"])
        hub = Hub(Book(), lambda *a: [])
        hub.deliver(events[:3])                           # this replica's tailer is behind the page
        session = Session(TENANT, "ana", (1, 5))
        await hub.attach(session, (1, 5))
        hub.deliver(events[3:])
        return drained(session)

    assert asyncio.run(run()) == ["1-6", "1-7", "1-8"]


def test_other_agents_events_are_not_pushed_and_detach_says_when_the_last_socket_left():
    async def run():
        hub = Hub(Book(), lambda *a: [])
        ana, ana_tab, ben = Session(TENANT, "ana", None), Session(TENANT, "ana", None), Session(TENANT, "ben", None)
        for s in (ana, ana_tab, ben):
            await hub.attach(s, None)
        hub.deliver(items(scenario(TENANT)["events"][:2]))
        return drained(ana), drained(ben), hub.detach(ana), hub.detach(ana_tab)

    assert asyncio.run(run()) == (["1-0", "1-1"], [], False, True)
