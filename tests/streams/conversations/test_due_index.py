"""The expiry scan over 50,000 threads in RocksDB partitions (the production store's engine): it
visits the k due entries plus one per partition, and sends exactly what the old full scan sent."""
import asyncio
import types

import pytest
from rocksdict import Options, Rdict

from schemas import Codec, topic
from streams.conversations import agent, due
from streams.conversations.expiry import finding
from streams.records import Output

from .factory import T0
from .test_due import CONFIG, closed, due_of, first, settled

THREADS, PARTITIONS, COPIES = 50_000, 6, 25
CODEC = Codec()


def templates(n: int) -> list[dict]:
    """`n` thread states of every finding kind, their first messages spread over three days."""
    kinds = [lambda at: settled(first(at=at)).state,                                          # window_closed
             lambda at: settled(first(at=at)).state | {"outbound_since_inbound": 1},          # expired
             lambda at: settled(first("inbound_line_text", at=at)).state,                     # expired, no window
             lambda at: first("inbound_messenger_details", at=at).state,                      # identity_wait
             lambda at: closed(settled(first("inbound_open_email", at=at)).state)]            # forget
    return [kinds[i % len(kinds)](T0 + i * 130_003) for i in range(n)]


@pytest.fixture(scope="module")
def threads() -> dict[bytes, dict]:
    """50,000 states: each template on 25 threads of its own (user id suffixed), over 6 partitions."""
    states = {}
    for n, state in enumerate(templates(THREADS // COPIES)):
        for copy in range(COPIES):
            key = f"{state['thread_key']}.{n}.{copy}"
            states[key.encode()] = state | {"thread_key": key, "partition": (n + copy) % PARTITIONS}
    return states


class Partition:
    """One partition's RocksDB as the agent's staged index table writes it (get, set, pop)."""

    def __init__(self, db: Rdict):
        self.db = db

    def get(self, key: bytes):
        return self.db.get(key)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.db.put(key, value)

    def pop(self, key: bytes, default=None):
        self.db.delete(key)
        return default


@pytest.fixture(scope="module")
def partitions(threads, tmp_path_factory) -> list[Rdict]:
    """The index of the 50,000 threads, placed as the agent places them, in 6 RocksDB partitions."""
    path = tmp_path_factory.mktemp("index")
    dbs = [Rdict(str(path / f"p{p}"), Options(raw_mode=True)) for p in range(PARTITIONS)]
    for key, state in threads.items():
        due.place(Partition(dbs[state["partition"]]), key, due_of(state))
    yield dbs
    for db in dbs:
        db.close()


@pytest.fixture
def wired(threads, partitions, monkeypatch):
    """The agent's scan over the RocksDB index and the 50,000 threads: (its metrics, what it sent)."""
    metrics, sent = {}, []

    async def send_all(records):
        sent.extend(records)

    monkeypatch.setattr(agent.Runtime, "config", CONFIG)
    monkeypatch.setattr(agent, "index", due.DueIndex(lambda: partitions, metrics))
    monkeypatch.setattr(agent, "conversation_by_thread", threads)
    monkeypatch.setattr(agent.Runtime, "states", types.SimpleNamespace(loads=lambda state: state))  # decoded already
    monkeypatch.setattr(agent.Runtime, "wiring", types.SimpleNamespace(codec=CODEC))
    monkeypatch.setattr(agent, "send_all", send_all)
    return metrics, sent


def full_scan(threads: dict[bytes, dict], now: int) -> list[Output]:
    """What the scan sent before the index: a finding for every thread of the table, read in full."""
    name, records = topic("conversation-timeouts").name, []
    for key, state in threads.items():
        found = finding(state, now, window_ms=CONFIG.window_of(state), ttl_ms=CONFIG.ttl_ms, grace_ms=CONFIG.grace_ms)
        if found:
            records.append(Output(name, key, "conversation-timeout", found, partition=state["partition"])
                           .encoded(CODEC))
        assert (now >= agent.due_at(state)) == bool(found)
    return records


@pytest.mark.parametrize("due_now", [25, 75, 2_500])
def test_a_scan_visits_the_due_threads_only_and_sends_what_the_full_scan_sent(threads, wired, due_now):
    metrics, sent = wired
    now = sorted(agent.due_at(s) for s in threads.values())[due_now - 1]
    expected = full_scan(threads, now)
    assert len(expected) == due_now   # 25 threads share each template's due instant
    assert asyncio.run(agent.scan(now)) == due_now
    assert sorted(sent) == sorted(expected)
    assert metrics["expiry_visited"] == due_now + PARTITIONS and metrics["expiry_stale"] == 0


@pytest.mark.parametrize(("days", "kinds"), [(4, {"identity_wait", "window_closed", "expired"}),
                                              (12, {"expired", "forget"})])   # expired comes first
def test_every_finding_kind_is_sent_as_the_full_scan_sent_it(threads, wired, days, kinds):
    metrics, sent = wired
    now = T0 + days * 86_400_000
    expected = full_scan(threads, now)
    assert asyncio.run(agent.scan(now)) == len(expected) and sorted(sent) == sorted(expected)
    assert {CODEC.decode(r.value, "conversation-timeout")["kind"] for r in sent} == kinds
    assert metrics["expiry_visited"] == len(expected) + PARTITIONS


def test_a_thread_that_moved_is_found_at_its_new_due_only(threads, partitions, wired):
    key, state = next(iter(threads.items()))
    was, index = agent.due_at(state), Partition(partitions[state["partition"]])
    due.place(index, key, was + 10 * 3_600_000)   # a later message moved it
    try:
        assert key not in set(agent.index.due(was))
        assert key in set(agent.index.due(was + 10 * 3_600_000))
    finally:
        due.place(index, key, was)
