"""A faust table as one batch sees it: reads see the batch's writes, writes wait for the acks.

The processor contract (`streams/processor.py`) stages every table write of a batch here and
flushes them only after the batch's outputs were acknowledged by the broker. Each staged write
remembers the event that made it: faust writes a table entry to the changelog partition of the
current event, so the flush replays each write under its own event. `items_with_prefix` reads one
key range of the table (`ranges.py`: a seek, not a scan) merged with the batch's writes.
"""
from __future__ import annotations

import heapq
import weakref
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from operator import itemgetter

from faust.streams import _current_event, current_event  # faust reads a write's partition from it

from .ranges import Ranges

_DELETED = object()


@contextmanager
def event_context(event) -> Iterator[None]:
    """Make `event` faust's current event: table reads and writes then use its partition."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class Staged(MutableMapping):
    """`table` plus this batch's pending writes (see module docstring)."""

    def __init__(self, table):
        self.table = table
        self.pending: dict[bytes, tuple[object, object]] = {}   # key -> (event, value or _DELETED)
        self.journal: list[tuple[bytes, tuple | None]] = []     # undo log of the batch's writes
        self.ranges = Ranges(table)

    def __getitem__(self, key: bytes):
        if key in self.pending:
            value = self.pending[key][1]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self.table[key]

    def __setitem__(self, key: bytes, value) -> None:
        self._stage(key, value)

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        self._stage(key, _DELETED)

    def __contains__(self, key) -> bool:
        if key in self.pending:
            return self.pending[key][1] is not _DELETED
        return key in self.table

    def __iter__(self) -> Iterator[bytes]:
        for key in self.table:
            if key not in self.pending:
                yield key
        yield from (key for key, (_, value) in list(self.pending.items()) if value is not _DELETED)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def items_with_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, object]]:
        """Entries whose key starts with `prefix`, in key order: the table's range seen through the
        batch's writes and deletions (the batch's own entries are few: scanned)."""
        staged = {key: value for key, (_, value) in self.pending.items() if key.startswith(prefix)}
        stored = ((key, value) for key, value in self.ranges.items(prefix) if key not in staged)
        written = sorted((key, value) for key, value in staged.items() if value is not _DELETED)
        return heapq.merge(stored, written, key=itemgetter(0))

    def keys_with_prefix(self, prefix: bytes) -> Iterator[bytes]:
        """Keys that start with `prefix`, in order (see `items_with_prefix`)."""
        return (key for key, _ in self.items_with_prefix(prefix))

    def mark(self) -> int:
        """A savepoint: `rollback(mark)` undoes every write staged after it."""
        return len(self.journal)

    def rollback(self, mark: int) -> None:
        """Undo the writes staged since `mark` (an event failed half-way)."""
        while len(self.journal) > mark:
            key, previous = self.journal.pop()
            if previous is None:
                self.pending.pop(key, None)
            else:
                self.pending[key] = previous

    def flush(self) -> int:
        """Write every staged entry to the table, each under the event that staged it."""
        for key, (event, value) in self.pending.items():
            with event_context(event):
                if value is _DELETED:
                    self.table.pop(key, None)
                else:
                    self.table[key] = value
        written = len(self.pending)
        self.pending.clear()
        self.journal.clear()
        return written

    def _stage(self, key: bytes, value) -> None:
        event = current_event()
        if event is None:
            raise RuntimeError("a staged table write outside of an event (use event_context)")
        self.journal.append((key, self.pending.get(key)))
        self.pending[key] = (event, value)
