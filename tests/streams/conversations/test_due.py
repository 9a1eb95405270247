"""The expiry index: `next_due` is the first instant `finding` finds something, per finding kind; the
agent keeps each thread's one entry at it, staged with the event; the scan reads only due entries."""
import types

import pytest
from hypothesis import given, strategies as st

from schemas import Codec
from streams.conversations import agent, due
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.expiry import IDENTITY_WAIT_MS, finding, next_due
from streams.conversations.state import StateCodec
from streams.sequencer import SOURCE_HEADER
from streams.staged import Staged, event_context
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, MINUTE, T0, inbound, settled

CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
WINDOW, TTL, GRACE, DAY = 72 * HOUR, 192 * HOUR, 5 * MINUTE, 24 * HOUR
SHORT_WINDOW_ACCOUNT = "acme:whatsapp:109876543210999:14155550123"   # window_hours: 1 (fixture accounts)


def first(name="inbound_whatsapp", at=T0, **overrides):
    """The thread state after its first message (identity's answer applied, unless `waiting`)."""
    return apply("inbound-messages", None, inbound(1, at, name=name, **overrides), partition=4, record_ms=at,
                 config=CONFIG)


def due_of(state):
    return next_due(state, window_ms=CONFIG.window_of(state), ttl_ms=CONFIG.ttl_ms, grace_ms=CONFIG.grace_ms)


def found(state, now):
    hit = finding(state, now, window_ms=CONFIG.window_of(state), ttl_ms=CONFIG.ttl_ms, grace_ms=CONFIG.grace_ms)
    return hit and hit["kind"]


def first_found(state):
    """(next_due, what `finding` finds one millisecond before it, what it finds at it)."""
    at = due_of(state)
    return at, found(state, at - 1), found(state, at)


def closed(state):
    """The state after its conversation was closed for inactivity through the expiry path."""
    now = state["conversation"]["last_activity_at"] + WINDOW + GRACE + 1
    timeout = finding(state, now, window_ms=WINDOW, ttl_ms=TTL, grace_ms=GRACE)
    return apply("conversation-timeouts", state, timeout, partition=4, record_ms=now, config=CONFIG).state


def test_a_waiting_whatsapp_customer_is_due_when_the_reply_window_closes():
    assert first_found(settled(first()).state) == (T0 + DAY + 1, None, "window_closed")


def test_an_announced_window_leaves_the_conversation_due_at_its_inactivity_close():
    state = settled(first()).state | {"window_closed_for": T0}
    assert first_found(state) == (T0 + WINDOW + GRACE + 1, None, "expired")


def test_a_channel_without_reply_window_is_due_at_its_inactivity_close():
    assert first_found(settled(first("inbound_line_text")).state) == (T0 + WINDOW + GRACE + 1, None, "expired")


def test_an_account_window_of_one_hour_makes_the_conversation_due_before_the_reply_window():
    state = settled(first(thread_key=SHORT_WINDOW_ACCOUNT, channel_account_id="109876543210999")).state
    assert first_found(state) == (T0 + HOUR + GRACE + 1, None, "expired")


def test_a_conversation_waiting_for_identity_is_due_after_the_identity_wait():
    state = first("inbound_messenger_details").state
    assert state["identity_waiting"]
    assert first_found(state) == (T0 + IDENTITY_WAIT_MS + 1, None, "identity_wait")


def test_a_connected_agent_ends_the_identity_deadline():
    state = first("inbound_messenger_details").state
    connected = state | {"conversation": state["conversation"] | {"connected_agent_id": "agent-ana"}}
    assert first_found(connected) == (T0 + DAY + 1, None, "window_closed")   # Messenger's standard 24 h


def test_an_idle_thread_without_conversation_is_due_when_the_dedupe_ttl_passes():
    state = closed(settled(first("inbound_line_text")).state)
    assert state["conversation"] is None
    assert first_found(state) == (state["touched_at"] + TTL + 1, None, "forget")


STATES = [settled(first()).state, settled(first()).state | {"outbound_since_inbound": 1},
          settled(first("inbound_line_text")).state, first("inbound_messenger_details").state,
          settled(first(thread_key=SHORT_WINDOW_ACCOUNT, channel_account_id="109876543210999")).state,
          closed(settled(first("inbound_open_email")).state)]


@given(st.sampled_from(STATES), st.one_of(st.sampled_from([-1, 0, 1]), st.integers(-3 * DAY, 10 * DAY)))
def test_finding_finds_nothing_before_next_due_and_something_from_it_on(state, offset):
    now = due_of(state) + offset
    assert (found(state, now) is not None) == (offset >= 0)


def test_placing_keeps_one_entry_per_thread_and_replaces_the_old_one():
    index = {}
    assert due.place(index, b"acme:line:a:u", 1_000)
    assert index == {b"due:0000000001000:acme:line:a:u": b"acme:line:a:u", b"thread:acme:line:a:u": b"0000000001000"}
    assert not due.place(index, b"acme:line:a:u", 1_000)
    assert due.place(index, b"acme:line:a:u", 99_000)
    assert index == {b"due:0000000099000:acme:line:a:u": b"acme:line:a:u", b"thread:acme:line:a:u": b"0000000099000"}
    assert due.place(index, b"acme:line:a:u", None) and index == {}


def test_the_scan_reads_entries_due_by_now_and_skips_one_that_is_not_the_threads_own():
    index, metrics = {}, {}
    for n, at in enumerate([500, 1_000, 1_001, 7_000]):
        due.place(index, b"t%d" % n, at)
    index[due.due_key(900, b"t3")] = b"t3"   # left behind: t3's own entry is at 7000
    reader = due.DueIndex(lambda: [due._Sorted(index)], metrics)
    assert list(reader.due(1_000)) == [b"t0", b"t1"]
    assert metrics == {"expiry_visited": 4, "expiry_stale": 1}   # 3 due entries, 1 read past the end


class Event:
    """What faust's current event is to a table write: a message with its partition."""

    def __init__(self, source: str, at: int):
        self.message = types.SimpleNamespace(partition=4, timestamp=at / 1000, topic="conversation-inputs",
                                             offset=0, headers=[(SOURCE_HEADER, source.encode())])


@pytest.fixture
def wired(monkeypatch):
    """The agent's handler over plain-dict tables (no broker): (thread table, index table)."""
    tables = {}, {}
    monkeypatch.setattr(agent.Runtime, "config", CONFIG)
    monkeypatch.setattr(agent.Runtime, "states", StateCodec(Codec()))
    monkeypatch.setattr(agent, "threads", Staged(tables[0]))
    monkeypatch.setattr(agent, "dues", Staged(tables[1]))
    return tables


def handle(source: str, value: dict, at: int) -> None:
    e = Event(source, at)
    with event_context(e):
        agent.handle(e.message, value)


def flush() -> None:
    agent.threads.flush(), agent.dues.flush()


def own_due(index: dict, thread: str) -> int:
    [key] = [k for k in index if k.startswith(b"due:")]
    assert index[b"thread:" + thread.encode()] == key[4:17] and key.endswith(thread.encode())
    return int(key[4:17])


def test_each_event_places_its_thread_at_its_next_due_staged_with_the_event(wired):
    threads, index = wired
    message = inbound(1, T0, name="inbound_line_text")
    mark = agent.dues.mark()
    handle("inbound-messages", message, T0)
    assert index == {} and len(agent.dues.pending) == 2   # written only with the batch, after the acks
    agent.dues.rollback(mark)
    assert agent.dues.pending == {}                       # a failed event takes its entries back
    handle("inbound-messages", message, T0)
    flush()
    assert own_due(index, message["thread_key"]) == T0 + WINDOW + GRACE + 1
    handle("inbound-messages", inbound(2, T0 + HOUR, name="inbound_line_text"), T0 + HOUR)
    flush()
    assert own_due(index, message["thread_key"]) == T0 + HOUR + WINDOW + GRACE + 1
    erased = {"tenant_id": "acme", "thread_key": message["thread_key"], "kind": "erased", "conversation_id": None,
              "last_activity_at": T0 + 2 * HOUR, "checked_at": T0 + 2 * HOUR}
    handle("conversation-timeouts", erased, T0 + 2 * HOUR)
    flush()
    assert threads == {} and index == {}   # forgotten thread, no entry left (tombstones on the changelog)


def test_a_replayed_event_mends_an_index_its_batch_did_not_write(wired):
    threads, index = wired
    message = inbound(1, T0, name="inbound_line_text")
    handle("inbound-messages", message, T0)
    flush()
    before = dict(index)
    later = inbound(2, T0 + HOUR, name="inbound_line_text")
    handle("inbound-messages", later, T0 + HOUR)
    agent.threads.flush()   # the process died between the two tables' writes
    agent.dues.pending.clear(), agent.dues.journal.clear()
    assert index == before
    handle("inbound-messages", later, T0 + HOUR)   # the replay: a duplicate for the thread table
    flush()
    assert own_due(index, message["thread_key"]) == T0 + HOUR + WINDOW + GRACE + 1


def test_a_replayed_timeout_for_a_forgotten_thread_removes_what_the_index_kept(wired):
    threads, index = wired
    due.place(index, b"acme:line:a:gone", T0)   # its state was deleted; its index entries were not
    erased = {"tenant_id": "acme", "thread_key": "acme:line:a:gone", "kind": "erased", "conversation_id": None,
              "last_activity_at": T0, "checked_at": T0}
    handle("conversation-timeouts", erased, T0)
    flush()
    assert index == {} and threads == {}
