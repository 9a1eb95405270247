"""Fault injection for the crash-window tests: exit the worker at a point of the contract.

`SWITCHBOARD_FAULT_POINT=<processor>:<point>:<n>[:<key part>]` makes the worker `os._exit` (no
flush, no commit: what kill -9 leaves) at `point` of the batch that holds the processor's n-th
event (counting only events whose key contains `key part`, e.g. a test's tenant id):
`produced` = outputs acked, table not written; `written` = table written, offsets not committed.
Unset in production; the worker logs a warning when it is set.
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)
POINTS = ("produced", "written")
FAULT_EXIT_CODE = 137  # what a supervisor sees after kill -9


class Fault:
    """Where to crash (see module docstring); `Fault()` is no fault."""

    def __init__(self, processor: str | None = None, point: str | None = None, at_event: int = 0,
                 key_part: str = ""):
        self.processor, self.point, self.at_event, self.key_part = processor, point, at_event, key_part
        self.seen = 0

    @classmethod
    def parse(cls, spec: str | None) -> "Fault":
        """`<processor>:<point>:<n>[:<key part>]`, or no fault for None/empty (settings validate it)."""
        if not spec:
            return cls()
        processor, point, count, *key_part = spec.split(":", 3)
        return cls(processor, point, int(count), key_part[0] if key_part else "")

    def due(self, processor: str, events: list) -> bool:
        """Count the batch's matching events; True if it holds the n-th."""
        if processor != self.processor:
            return False
        before = self.seen
        self.seen += sum(1 for e in events if self.key_part.encode() in (e.message.key or b""))
        return before < self.at_event <= self.seen

    def crash_at(self, point: str, due: bool) -> None:
        """Exit now if the batch is due and this is the configured point."""
        if due and point == self.point:
            log.critical("fault injected: %s exits at %s (event %d)", self.processor, point, self.at_event)
            logging.shutdown()
            os._exit(FAULT_EXIT_CODE)
