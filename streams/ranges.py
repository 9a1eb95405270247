"""Key-range reads of a faust table: the entries under one prefix, without iterating the table.

A routing domain is restored from its `<domain key>:…` entries (`streams/routing/router.py`);
iterating the whole table for each domain is O(all entries of the worker) per restore. Here:

- RocksDB store (`rocksdb://`, rocksdict driver): one seek per partition DB to the prefix, with
  the iterator's upper bound at the prefix's successor, so RocksDB stops at the range's end
  (tombstones past it are not skipped over either). Only the current event's partition DB is
  read, as faust's own `_get` does (a domain's entries are written under its events); outside an
  event, every active partition's DB.
- memory store (`memory://`, tests and throwaway workers): its dict is swapped once for
  `_SortedDict`, which keeps a sorted key list beside the dict (every write path of the store,
  changelog recovery included, goes through it), and a prefix is found by bisection.
- anything else (a plain dict in unit tests): a scan, in key order.

A range is read lazily: consume it before writing to the table. This reads faust internals
(`Store._db_for_partition`, `_dbs_for_actives`, `_decode_value`, `use_rocksdict`; the memory
`Store.data`), checked against faust-streaming 0.15.3 (pinned: `recovery_order.py`) and rocksdict
0.3.29, in whose raw mode (faust's) the upper bound is honoured: tests/streams/test_ranges.py fails
on a version that reads past it.
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

import rocksdict
from faust.stores import memory, rocksdb
from faust.streams import current_event

Item = tuple[bytes, object]


def items_with_prefix(table, prefix):
    """`table`'s own range read where it has one (`Staged`, routing's `_TextKeys`), else a scan of
    a plain mapping in key order (the dicts of unit tests)."""
    if hasattr(table, "items_with_prefix"):
        return table.items_with_prefix(prefix)
    return ((key, table[key]) for key in sorted(k for k in table if k.startswith(prefix)))


class Ranges:
    """Range reads of one faust table's local store, counting what they read (module docstring)."""

    def __init__(self, table):
        self.table = table
        self.metrics = {"reads": 0, "visited": 0}   # visited: entries read from the store

    def items(self, prefix: bytes) -> Iterator[Item]:
        """(key, value) of every stored entry whose key starts with `prefix`, in key order."""
        self.metrics["reads"] += 1
        store = getattr(self.table, "data", None)
        if isinstance(store, rocksdb.Store):
            found = _rocksdb_items(store, self.table, prefix)
        elif isinstance(store, memory.Store):
            found = _memory_items(store, prefix)
        else:   # a plain mapping (unit tests): nothing to seek in
            found = items_with_prefix(self.table, prefix)
        for item in found:
            self.metrics["visited"] += 1
            yield item


def _rocksdb_items(store: rocksdb.Store, table, prefix: bytes) -> Iterator[Item]:
    if not store.use_rocksdict or store.key_serializer != "raw":   # a json key would not keep the prefix
        raise TypeError(f"range reads need the rocksdict driver and raw bytes keys (table {table.name})")
    bound, end = rocksdict.ReadOptions(), successor(prefix)
    if end is not None:
        bound.set_iterate_upper_bound(end)   # raw bytes: faust opens its DBs in raw mode
    for db in _partition_dbs(store, table):
        it = db.iter(bound)
        it.seek(prefix)
        while it.valid():
            yield it.key(), store._decode_value(it.value())
            it.next()


def successor(prefix: bytes) -> bytes | None:
    """The least key above every key that starts with `prefix` (None: no bound, e.g. b"")."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else None


def _partition_dbs(store: rocksdb.Store, table) -> list:
    event = current_event()
    if event is not None and not table.is_global and not table.use_partitioner:
        return [store._db_for_partition(event.message.partition)]   # as faust's `Store._get` reads
    return list(store._dbs_for_actives())


def _memory_items(store: memory.Store, prefix: bytes) -> Iterator[Item]:
    if not isinstance(store.data, _SortedDict):
        store.data = _SortedDict(store.data)   # once: one sort of what is there, then kept sorted
    data = store.data
    for key in data.keys_from(prefix):
        if not key.startswith(prefix):
            break
        yield key, data[key]


class _SortedDict(dict):
    """A dict that also keeps its keys in a sorted list (the memory store's sorted key index).

    Inserting a new key costs a bisection and a list insert (a memmove: fine at test sizes; a
    production worker uses RocksDB). Every mutator faust's memory store and tables call is here.
    """

    def __init__(self, entries=()):
        super().__init__(entries)
        self.order = sorted(self)

    def keys_from(self, start: bytes) -> Iterator[bytes]:
        """Keys ≥ `start` in order (a snapshot of the list's tail position, read lazily)."""
        index = bisect_left(self.order, start)
        while index < len(self.order):
            yield self.order[index]
            index += 1

    def __setitem__(self, key, value) -> None:
        if key not in self:
            insort(self.order, key)
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        del self.order[bisect_left(self.order, key)]

    def pop(self, key, *default):
        if key in self:
            del self.order[bisect_left(self.order, key)]
        return super().pop(key, *default)

    def popitem(self):
        key, value = super().popitem()
        del self.order[bisect_left(self.order, key)]
        return key, value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self.order.clear()
