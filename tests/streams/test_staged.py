"""The batch's view of a table: reads see staged writes, failed events roll back, flush writes."""
from types import SimpleNamespace

import pytest

from streams.faults import Fault
from streams.staged import Staged, event_context


class Event:
    """A faust event's shape as far as tables care: its message's partition and key."""

    def __init__(self, partition: int, key: bytes = b"k"):
        self.message = SimpleNamespace(partition=partition, key=key)


class Table(dict):
    """A dict that records the partition of the current event for each write (faust's behaviour)."""

    def __init__(self, **entries):
        super().__init__(**entries)
        self.partitions = {}

    def __setitem__(self, key, value):
        from faust.streams import current_event

        self.partitions[key] = current_event().message.partition
        super().__setitem__(key, value)


def test_reads_see_the_batchs_writes_and_the_table_only_after_flush():
    table = Table(a=b"old")
    staged = Staged(table)
    with event_context(Event(3)):
        staged["a"], staged["b"] = b"new", b"added"
        del staged["a"]
    assert ("a" in staged, staged.get("b"), table) == (False, b"added", {"a": b"old"})
    assert sorted(staged) == ["b"] and len(staged) == 1
    assert staged.flush() == 2 and table == {"b": b"added"} and table.partitions == {"b": 3}
    assert staged.pending == {} and staged["b"] == b"added"


def test_each_write_is_flushed_under_the_event_that_staged_it():
    table = Table()
    staged = Staged(table)
    for partition, key in [(0, "x"), (5, "y")]:
        with event_context(Event(partition)):
            staged[key] = b"v"
    staged.flush()
    assert table.partitions == {"x": 0, "y": 5}


def test_rollback_undoes_only_the_writes_after_the_mark():
    staged = Staged(Table(a=b"1"))
    with event_context(Event(0)):
        staged["a"] = b"2"
        mark = staged.mark()
        staged["a"], staged["c"] = b"3", b"x"
        del staged["a"]
    staged.rollback(mark)
    assert (staged["a"], "c" in staged) == (b"2", False)


def test_a_write_outside_an_event_is_refused():
    with pytest.raises(RuntimeError, match="outside of an event"):
        Staged(Table())["a"] = b"v"


def test_a_fault_is_due_in_the_batch_holding_the_nth_matching_event():
    fault = Fault.parse("route_conversations:written:3:tenant-a")
    batch = [Event(0, b"tenant-a"), Event(0, b"tenant-b"), Event(0, b"tenant-a")]
    assert not fault.due("thread_conversations", batch)      # another processor counts nothing
    assert not fault.due("route_conversations", batch)       # 2 matching so far
    assert fault.due("route_conversations", [Event(0, b"tenant-a")])
    assert not fault.due("route_conversations", [Event(0, b"tenant-a")])
    assert (fault.point, Fault.parse(None).processor) == ("written", None)
