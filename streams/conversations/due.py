"""The expiry index: threads ordered by the next instant a finding is due, read up to now by a seek.

The expiry scan used to read every thread of the table each interval. The table `thread_by_due`
(changelog `conversation-due-index`, compacted, partitioned like `conversation-state`) holds two
entries per thread, written by the agent under the thread's own event (so in its partition, staged
and rolled back with it by the processor contract, restored with it):

    due:<due ms, 13 digits>:<thread key>  -> thread key   (sorted by time: what the scan reads)
    thread:<thread key>                   -> due ms       (which due entry is the thread's own)

The second entry lets an event replace exactly the entry it wrote last, whatever the config was
then, and lets the scan skip an entry that is not the thread's own (`stale`: only a store rebuilt
from changelogs cut at different points leaves one).

RocksDB (`rocksdb://`, the production store) keeps keys sorted: the scan seeks each active
partition's database to `due:` and stops at the first key past now, so it reads the k due
entries plus one per partition. Reads use faust internals (`Store._dbs_for_actives`,
`_encode_key`), checked against faust-streaming 0.15.3 (pinned: see `recovery_order.py`).
A `memory://` store (throwaway runs) is sorted on each read.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping

from faust.stores import memory, rocksdb

DUE, OWN = b"due:", b"thread:"


def due_key(due: int, thread: bytes) -> bytes:
    """The index key of `thread` due at `due` millis (13 digits sort as numbers until year 2286)."""
    return b"%s%013d:%s" % (DUE, due, thread)


def place(index: MutableMapping, thread: bytes, due: int | None) -> bool:
    """Make `due` the thread's one entry (None: no entry), dropping the one it replaces; True if changed."""
    own = OWN + thread
    was = index.get(own)
    wanted = None if due is None else b"%013d" % due
    if was == wanted:
        return False
    if was is not None:
        index.pop(DUE + was + b":" + thread, None)
    if wanted is None:
        index.pop(own, None)
    else:
        index[due_key(due, thread)] = thread
        index[own] = wanted
    return True


class DueIndex:
    """The scan's side of the index: the threads due by `now`, visiting only their entries."""

    def __init__(self, partitions: Callable[[], Iterable], metrics: dict):
        """`partitions()`: the local stores of the active partitions (`local_partitions`)."""
        self.partitions, self.metrics = partitions, metrics
        metrics.update(expiry_visited=0, expiry_stale=0)

    def due(self, now: int) -> Iterator[bytes]:
        """Thread keys whose own entry is due at or before `now`, in due order per partition."""
        end = b"%s%013d;" % (DUE, now)   # ';' sorts after ':', so every entry due at `now` is inside
        for db in self.partitions():
            for key, thread in db.items(from_key=DUE):
                self.metrics["expiry_visited"] += 1
                if key >= end:
                    break
                if db.get(OWN + thread) == key[len(DUE):len(DUE) + 13]:
                    yield thread
                else:
                    self.metrics["expiry_stale"] += 1


def local_partitions(table) -> list:
    """The table's local stores of this worker's active partitions, each readable in key order."""
    store = table.data
    if isinstance(store, rocksdb.Store):
        if store._encode_key(DUE) != DUE:   # a serializing key type would not keep the order
            raise TypeError(f"the expiry index needs raw bytes keys; table {table.name} serializes them")
        return list(store._dbs_for_actives())
    return [_Sorted(store.data if isinstance(store, memory.Store) else store)]


class _Sorted:
    """A mapping read in key order by sorting it (memory stores: throwaway runs and tests)."""

    def __init__(self, data):
        self.data = data

    def get(self, key: bytes):
        """The value of `key`, or None."""
        return self.data.get(key)

    def items(self, from_key: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(key, value) from `from_key` on, in key order."""
        return ((key, self.data[key]) for key in sorted(k for k in self.data if k >= from_key))
