"""Fault injection for the fault tier: `deliver` killed between a platform call and its commit.

`SWITCHBOARD_DELIVER_FAULT=<n>[:<channel>]` makes the process `os._exit(137)` (no flush, no
publish, no commit: what kill -9 leaves) right after a platform answered its n-th send request
(counting only `channel`'s, when given): the message is `sending` in the ledger, the platform has
it, its `sent` and the batch's offsets are not written. Restarted without the variable, deliver
resends it only where the platform dedupes a resend, else reports it failed, "unknown outcome"
(connectors/README.md, "Never twice"). Unset in production; when set, it is logged loudly at the
first send. `tests/browser/test_faults_under_load.py` uses it. (streams/faults.py is the worker's.)
"""
from __future__ import annotations

import functools
import logging
import os

log = logging.getLogger("switchboard.deliver.faults")
ENV = "SWITCHBOARD_DELIVER_FAULT"
FAULT_EXIT_CODE = 137  # what a supervisor sees after kill -9


class SendFault:
    """Exit after the platform's n-th answer (of one channel); `SendFault(0)` never exits."""

    def __init__(self, at_send: int = 0, channel: str = ""):
        self.at_send, self.channel = at_send, channel
        self.seen = 0

    @classmethod
    def parse(cls, spec: str | None) -> "SendFault":
        """`<n>[:<channel>]`, or no fault for None/empty; anything else is refused with the format."""
        if not spec:
            return cls()
        count, _, channel = spec.partition(":")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"{ENV}={spec!r}: expected <n>[:<channel>] with n >= 1, e.g. 3:whatsapp")
        return cls(int(count), channel)

    def answered(self, channel: str) -> None:
        """Count one platform answer; exit the process if it is the n-th."""
        if not self.at_send or (self.channel and channel != self.channel):
            return
        self.seen += 1
        if self.seen == self.at_send:
            log.critical("FAULT INJECTED: deliver exits after send %d (%s) answered, before its commit",
                         self.seen, channel)
            logging.shutdown()
            os._exit(FAULT_EXIT_CODE)


@functools.cache
def armed() -> SendFault:
    """The process's fault, read from the environment once (sending.send asks after each answer)."""
    fault = SendFault.parse(os.environ.get(ENV))
    if fault.at_send:
        log.warning("FAULT POINT ARMED: %s=%s — deliver will exit after send %d%s; never set this in production",
                    ENV, os.environ[ENV], fault.at_send, f" of {fault.channel}" if fault.channel else "")
    return fault
