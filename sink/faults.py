"""Fault injection for the fault tier: the ClickHouse store refusing writes for a while.

The embedded engine cannot be stopped under a running sink, so `SWITCHBOARD_SINK_FAULT_FILE=<path>`
arms a hook instead: while that file holds a time (epoch seconds) still to come, every insert raises
TABLE_IS_READ_ONLY (242), a code the sink retries in place (sink/errors.py), as a ClickHouse server
that is restarting answers. Unset in production; armed, the sink says so loudly at its first insert
and when a refusal starts and ends. `tests/browser/test_faults_under_load.py` uses it.
"""
from __future__ import annotations

import functools
import logging
import os
import time
from pathlib import Path

from .errors import ClickHouseError

log = logging.getLogger("switchboard.sink.faults")
ENV = "SWITCHBOARD_SINK_FAULT_FILE"
READ_ONLY = 242   # TABLE_IS_READ_ONLY (ClickHouse src/Common/ErrorCodes.cpp), in RETRIABLE_CODES


class WriteRefusal:
    """Refuses inserts while `path` holds a future time; `WriteRefusal(None)` refuses nothing."""

    def __init__(self, path: Path | None, clock=time.time):
        self.path, self.clock = path, clock
        self.refusing = False

    def check(self) -> None:
        """Raise the retriable read-only error if writes are refused now."""
        if self.path is None:
            return
        refusing = self.clock() < _until(self.path)
        if refusing != self.refusing:
            self.refusing = refusing
            log.warning("FAULT INJECTED: inserts %s (%s)", "refused" if refusing else "accepted again", self.path)
        if refusing:
            raise ClickHouseError(READ_ONLY, f"Code: {READ_ONLY}. Table is in readonly mode "
                                             f"(fault injected by {ENV}={self.path})")


def _until(path: Path) -> float:
    try:
        return float(path.read_text().strip() or 0)
    except (OSError, ValueError):   # no file (the usual case) or one being written: no refusal
        return 0.0


@functools.cache
def armed() -> WriteRefusal:
    """The process's hook, read from the environment once (the stores call it before each insert)."""
    path = os.environ.get(ENV)
    if path:
        log.warning("FAULT HOOK ARMED: %s=%s — inserts are refused while it holds a future time; "
                    "never set this in production", ENV, path)
    return WriteRefusal(Path(path) if path else None)


def refuse_writes(path: Path, seconds: float) -> float:
    """Make an armed sink refuse inserts for `seconds` from now (for tests); returns the end time."""
    until = time.time() + seconds
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{until:.3f}\n")
    partial.replace(path)   # atomic: the sink never reads half a number
    return until
