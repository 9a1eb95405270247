"""The report API's audit of reads: each customer history it answers is first an access-audit record
(switchboard/audit.py) the broker acknowledged — `Auditor` produces it and waits, so an unrecorded
read is answered 503, never served."""
from __future__ import annotations

import asyncio

from switchboard.audit import AUDIT
from switchboard.kafka import producer


class NotRecorded(Exception):
    """The broker did not acknowledge an audit record in time."""


class Auditor:
    """`await auditor(fact)`: one access-audit record, keyed by tenant, acknowledged within `timeout_s`."""

    def __init__(self, client_config: dict, codec, timeout_s: float = 5.0):
        millis = int(timeout_s * 1000)
        self.out = producer(client_config, **{"message.timeout.ms": millis})
        self.codec, self.timeout_s = codec, timeout_s

    async def __call__(self, fact: dict) -> None:
        """Produce and wait for the acknowledgement (NotRecorded otherwise)."""
        await asyncio.to_thread(self._send, fact)

    def _send(self, fact: dict) -> None:
        failed: list = []
        self.out.produce(AUDIT.name, key=fact["tenant_id"].encode(), value=self.codec.encode(AUDIT.value, fact),
                         on_delivery=lambda err, _msg: failed.append(err) if err else None)
        if self.out.flush(self.timeout_s * 2) or failed:
            raise NotRecorded(str(failed[0]) if failed else "no acknowledgement in time")

    def close(self) -> None:
        """Send what is queued."""
        self.out.flush(self.timeout_s)
