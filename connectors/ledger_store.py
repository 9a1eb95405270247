"""The delivery ledger's local store: a RocksDB of outbound id → latest state, offsets, expiry index.

Three kinds of keys, all in one database so a batch of topic records and the offset it reaches
are written together (a crash leaves a consistent prefix, never states without their offset):

- `s:<outbound id>` → `<state> <updated_at ms>`, the latest attempt's state;
- `t:<updated_at, 8 bytes big-endian><outbound id>` → empty: the time-ordered index an expiry pass
  walks from its start to the horizon (it reads only what expires, never the whole store). An entry
  updated later leaves its older index key behind; the pass drops such keys without the state;
- `o:<topic>:<partition>` → the next offset of that ledger partition not applied yet.
"""
from __future__ import annotations

import struct
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch

STATE, INDEX, OFFSET = b"s:", b"t:", b"o:"
_MS = struct.Struct(">Q")


class LedgerLocked(RuntimeError):
    """Another process (or ledger) holds this store; each deliver instance needs its own directory."""


class LedgerStore:
    """Outbound id → (state, updated_at ms), with applied offsets and expiry by a time-ordered index."""

    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.set_keep_log_file_num(2)  # RocksDB's own LOG files, not data
        try:
            self._db = Rdict(str(path), options)
        except Exception as exc:  # rocksdict raises a bare Exception for a held LOCK
            if "lock" in str(exc).lower():
                raise LedgerLocked(f"{path} is in use by another deliver instance: {exc}") from exc
            raise
        self._batch = WriteBatch(raw_mode=True)

    def put(self, outbound_id: str, state: str, updated_at: int) -> None:
        """Stage the latest state of one message (written by `commit`)."""
        key = outbound_id.encode()
        self._batch.put(STATE + key, f"{state} {updated_at}".encode())
        self._batch.put(INDEX + _MS.pack(max(updated_at, 0)) + key, b"")

    def delete(self, outbound_id: str) -> None:
        """Stage forgetting one message (a tombstone on the topic, e.g. an erasure)."""
        self._batch.delete(STATE + outbound_id.encode())

    def offset(self, topic: str, partition: int, offset: int) -> None:
        """Stage the next offset of `topic[partition]` still to apply."""
        self._batch.put(_offset_key(topic, partition), _MS.pack(offset))

    def commit(self) -> None:
        """Write what was staged, atomically."""
        if not self._batch.is_empty():
            self._db.write(self._batch)
            self._batch = WriteBatch(raw_mode=True)

    def state(self, outbound_id: str) -> tuple[str, int] | None:
        """(state, updated_at ms) of a message, or None."""
        value = self._db.get(STATE + outbound_id.encode())
        if value is None:
            return None
        state, at = value.decode().split(" ")
        return state, int(at)

    def offsets(self, topic: str, partitions) -> dict[int, int]:
        """The stored next offset of each partition that has one."""
        found = {p: self._db.get(_offset_key(topic, p)) for p in partitions}
        return {p: _MS.unpack(v)[0] for p, v in found.items() if v is not None}

    def expire(self, before_ms: int) -> int:
        """Forget every message last updated before `before_ms`; returns how many were forgotten."""
        self.commit()
        end, it, gone = INDEX + _MS.pack(max(before_ms, 0)), self._db.iter(), 0
        it.seek(INDEX)
        while it.valid() and it.key() < end:
            key = it.key()[len(INDEX) + _MS.size:]
            current = self._db.get(STATE + key)
            # Only the latest index key of an entry decides; older ones are left-overs of updates.
            if current is not None and int(current.split(b" ")[1]) < before_ms:
                self._batch.delete(STATE + key)
                gone += 1
            it.next()
        del it
        self._batch.delete_range(INDEX, end)
        self.commit()
        return gone

    def close(self) -> None:
        """Write what is staged and release the database."""
        self.commit()
        self._db.close()


def _offset_key(topic: str, partition: int) -> bytes:
    return OFFSET + f"{topic}:{partition}".encode()
