"""The routing processor: one faust agent over routing-requests, agent-actions and routing-ticks.

All three topics are keyed by tenant and have the same partition count, so a tenant's events
arrive on one partition number and one worker owns its ACD. The agent is a
`streams.processor.Processor`: the ACD's records are produced and acked before its changed
entities are written to `routing-state`, each under the event that changed it, so the
`<tenant>:…` entries stay with the tenant's partition. A failed event discards its domain, which
the next event rebuilds from the table (the contract rolled the failed event's writes back).
"""
from __future__ import annotations

from collections.abc import MutableMapping

from schemas import topic
from streams.app import app, raw_table
from streams.processor import Processor, Wiring

from .config import ConfigCache
from .router import SUBJECTS, Router

STAGE = "streams.routing"
STATE = topic("routing-state")

state_by_key = raw_table(STATE.name, changelog=STATE.name, options={"write_buffer_size": 8 << 20,
                         "max_write_buffer_number": 2}, help="ACD entities by <tenant>:<kind>:<id>.")
processor = Processor("route_conversations", SUBJECTS, stage=STAGE, tables=[state_by_key])


class _TextKeys(MutableMapping):
    """The table with str keys (stored as raw UTF-8 bytes, readable in the changelog)."""

    def __init__(self, table):
        self.table = table

    def __getitem__(self, key: str) -> bytes:
        return self.table[key.encode()]

    def __setitem__(self, key: str, value: bytes) -> None:
        self.table[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self.table[key.encode()]

    def __iter__(self):
        return (key.decode() for key in self.table)

    def __len__(self) -> int:
        return len(self.table)


class Runtime:
    """This worker's routing domains, built by `setup` from the worker's wiring."""

    router: Router | None = None


def setup(wiring: Wiring) -> None:
    """Build the router over the staged table and bind it (the worker calls this before start)."""
    router = Runtime.router = Router(_TextKeys(processor.staged(state_by_key)),
                                     ConfigCache(wiring.settings.routing_dir), wiring.codec)
    processor.bind(lambda msg, record: router.handle(msg.topic, record, msg.partition), wiring)


@app.on_partitions_revoked.connect
async def _forget_domains(app_, revoked, **kwargs) -> None:  # noqa: ARG001 (faust signal signature)
    if Runtime.router is not None:
        Runtime.router.forget()
