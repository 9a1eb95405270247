"""A queue's waiting conversations in routing order: priority as virtual age, then entry time.

Genesys treats priority as minutes of virtual age: priority 5 sorts as if the conversation had
entered 5 minutes earlier. A declined or timed-out offer puts it back with its original entry
time, so it regains its original place.
"""
from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

PRIORITY_UNIT_MS = 60_000  # one priority unit = one minute of virtual age


def order_key(entered_at: int, priority: int, conversation_id: str) -> tuple[int, int, str]:
    """Sort key: virtual entry time, then real entry time, then id (deterministic)."""
    return (entered_at - priority * PRIORITY_UNIT_MS, entered_at, conversation_id)


class WaitList:
    """Sorted waiting conversations of one queue, with O(log n) lookup for removal."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, str]] = []
        self._keys: dict[str, tuple[int, int, str]] = {}

    def add(self, entered_at: int, priority: int, conversation_id: str) -> None:
        """Insert (or move) a conversation at its place."""
        self.remove(conversation_id)
        key = order_key(entered_at, priority, conversation_id)
        insort(self._items, key)
        self._keys[conversation_id] = key

    def remove(self, conversation_id: str) -> bool:
        """Take a conversation out; False if it was not waiting here."""
        key = self._keys.pop(conversation_id, None)
        if key is None:
            return False
        del self._items[bisect_left(self._items, key)]
        return True

    def key_of(self, conversation_id: str) -> tuple[int, int, str] | None:
        """The conversation's sort key, if it waits here."""
        return self._keys.get(conversation_id)

    def __iter__(self) -> Iterator[str]:
        return (key[2] for key in self._items)  # callers do not mutate while iterating

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, conversation_id: str) -> bool:
        return conversation_id in self._keys
