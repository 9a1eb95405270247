"""Key-range reads of a faust table (`streams/ranges.py`): a seek into the store, never a scan."""
from types import SimpleNamespace

import pytest
from faust.types import TP

from streams.ranges import Ranges, successor
from streams.staged import Staged, event_context

from .stores import Event, put, table

# Neighbours that a prefix test must keep out: a longer id, a sub-domain, the next byte after ':'.
NEIGHBOURS = [b"t1/retail:agent:a1", b"t10:agent:a1", b"t1;", b"t2:agent:a1", b"t1"]
OWN = [b"t1:agent:a1", b"t1:agent:a2", b"t1:conv:c1", b"t1:domain"]


def entries(keys):
    return [(key, b"value of " + key) for key in keys]


def test_a_rocksdb_read_visits_only_the_prefix_in_the_event_s_partition(tmp_path):
    with_rocksdb = table(tmp_path)
    put(with_rocksdb, 2, entries(NEIGHBOURS + OWN))
    put(with_rocksdb, 3, entries([b"t1:conv:elsewhere"]))      # another partition: not this domain's
    ranges = Ranges(with_rocksdb)
    with event_context(Event(2)):
        assert list(ranges.items(b"t1:")) == entries(OWN)
    assert ranges.metrics == {"reads": 1, "visited": len(OWN)}


def test_outside_an_event_every_active_partition_is_read_and_standbys_are_not(tmp_path, monkeypatch):
    with_rocksdb = table(tmp_path)
    put(with_rocksdb, 0, entries([b"t1:agent:a1"]))
    put(with_rocksdb, 4, entries([b"t1:conv:c9", b"t2:conv:c1"]))
    put(with_rocksdb, 5, entries([b"t1:conv:standby"]))
    actives = {TP(with_rocksdb.changelog_topic_name, p) for p in (0, 4)}
    monkeypatch.setattr(with_rocksdb.app.assignor, "assigned_actives", lambda: actives)
    assert sorted(Ranges(with_rocksdb).items(b"t1:")) == entries([b"t1:agent:a1", b"t1:conv:c9"])


def test_the_range_ends_at_the_prefix_s_successor(tmp_path):
    assert (successor(b"t1:"), successor(b"a\xff"), successor(b"\xff\xff"), successor(b"")) == \
        (b"t1;", b"b", None, None)
    with_rocksdb = table(tmp_path)
    put(with_rocksdb, 0, entries([b"a\xff\x01", b"a\xff", b"b"]))
    with event_context(Event(0)):
        assert [k for k, _ in Ranges(with_rocksdb).items(b"a\xff")] == [b"a\xff", b"a\xff\x01"]
        assert len(list(Ranges(with_rocksdb).items(b""))) == 3


def test_a_memory_store_keeps_its_sorted_index_through_every_write_path(tmp_path):
    memory = table(tmp_path, store="memory://")
    put(memory, 1, entries([b"t1:conv:c1", b"t2:conv:c1"]))    # before the index exists
    ranges = Ranges(memory)
    assert [k for k, _ in ranges.items(b"t1:")] == [b"t1:conv:c1"]
    put(memory, 1, entries(NEIGHBOURS + [b"t1:agent:a1", b"t1:agent:a2"]))
    del memory.data[b"t1:agent:a2"]
    memory.data.data.pop(b"t1:conv:c1")
    recovered = [SimpleNamespace(key=key, value=value, message=SimpleNamespace(partition=1, value=value))
                 for key, value in entries([b"t1:domain", b"t1:conv:c7"]) + [(b"t1:agent:a1", None)]]
    memory.data.apply_changelog_batch(recovered, to_key=lambda k: k, to_value=lambda v: v)
    visited = ranges.metrics["visited"]
    assert [k for k, _ in ranges.items(b"t1:")] == [b"t1:conv:c7", b"t1:domain"]
    assert ranges.metrics["visited"] - visited == 2
    assert memory.data.data.order == sorted(memory.data.data)


def test_a_staged_range_sees_the_batch_s_writes_and_deletions_in_key_order(tmp_path):
    with_rocksdb = table(tmp_path)
    put(with_rocksdb, 2, entries(NEIGHBOURS + OWN))
    staged = Staged(with_rocksdb)
    with event_context(Event(2)):
        staged[b"t1:agent:a0"] = b"new"
        staged[b"t1:conv:c1"] = b"changed"
        del staged[b"t1:agent:a2"]
        staged[b"t10:conv:c1"] = b"not ours"
        assert list(staged.items_with_prefix(b"t1:")) == \
            [(b"t1:agent:a0", b"new"), (b"t1:agent:a1", b"value of t1:agent:a1"), (b"t1:conv:c1", b"changed"),
             (b"t1:domain", b"value of t1:domain")]
        assert list(staged.keys_with_prefix(b"t10:")) == [b"t10:agent:a1", b"t10:conv:c1"]


def test_a_table_whose_keys_are_serialized_is_refused_rather_than_read_wrongly(tmp_path):
    with_json_keys = table(tmp_path, key_type=str)   # str keys: faust's default serializer, json
    with event_context(Event(0)), pytest.raises(TypeError, match="raw bytes keys"):
        list(Ranges(with_json_keys).items(b"t1:"))
