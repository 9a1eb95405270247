"""Faust tables over a real store (RocksDB in a tmp dir, or memory) without a broker.

Entries are written as faust's `Table.__setitem__` writes them (the store's `__setitem__` under
the current event, which picks the partition DB), minus the changelog send.
"""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import faust

from streams.staged import event_context


class Event:
    """A faust event's shape as far as tables care: its message's partition and key."""

    def __init__(self, partition: int, key: bytes = b"k"):
        self.message = SimpleNamespace(partition=partition, key=key)


def table(tmp_path, store: str = "rocksdb://", partitions: int = 6, key_type=bytes) -> faust.Table:
    """A bytes → bytes table like `streams.app.raw_table`'s, on its own app and data dir."""
    app = faust.App(f"test-{uuid.uuid4().hex[:8]}", store=store, datadir=str(tmp_path), autodiscover=False,
                    web_enabled=False)
    return app.Table("routing-state", key_type=key_type, value_type=bytes, partitions=partitions)


def put(table: faust.Table, partition: int, entries) -> None:
    """Write (key, value) pairs to the table's store under an event of `partition`."""
    with event_context(Event(partition)):
        for key, value in entries:
            table.data[key] = value
