"""The routing processor: its inputs sequenced into one log, and the ACD over that log.

Routing has four inputs — routing-requests, agent-actions, routing-ticks, work-events — keyed by
tenant, with the same partition count. `sequence_routing_inputs` appends them to `routing-inputs`
(`streams/sequencer.py`: the order is decided once, so a replay decides the same way) under the key
of their routing domain — the tenant id, or `<tenant>/<domain>` for a tenant with `domains:`
(`keys.py`) — and `route_conversations` applies that log to each domain's ACD under the processor
contract: the ACD's records are produced and acked before its changed entities are written to
`routing-state`, each under the event that changed it, so the `<domain key>:…` entries stay with
the domain's partition. A failed event discards its domain, which the next event rebuilds from the
table (the contract rolled the failed event's writes back). Replayed duplicates are dropped by
request and action id; ticks never move the ACD's clock back.
"""
from __future__ import annotations

from collections.abc import MutableMapping

from schemas import topic
from streams.app import app, raw_table
from streams.processor import Wiring
from streams.sequencer import Sequencer, source_of

from .config import ConfigCache
from .keys import input_keys
from .router import SUBJECTS, Router

STAGE = "streams.routing"
STATE = topic("routing-state")

state_by_key = raw_table(STATE.name, changelog=STATE.name, options={"write_buffer_size": 8 << 20,
                         "max_write_buffer_number": 2}, help="ACD entities by <domain key>:<kind>:<id>.")
sequencer = Sequencer("sequence_routing_inputs", SUBJECTS, "routing-inputs", stage=STAGE)
processor = sequencer.reader("route_conversations", stage=STAGE, tables=[state_by_key])


class _TextKeys(MutableMapping):
    """The table with str keys (stored as raw UTF-8 bytes, readable in the changelog); a domain's
    entries are read as one key range (`Staged.items_with_prefix`)."""

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

    def items_with_prefix(self, prefix: str):
        """(key, value) of the entries under `prefix`, in key order (UTF-8 keeps byte order)."""
        return ((key.decode(), value) for key, value in self.table.items_with_prefix(prefix.encode()))


class Runtime:
    """This worker's routing domains, built by `setup` from the worker's wiring."""

    router: Router | None = None


def setup(wiring: Wiring) -> None:
    """Build the router over the staged table and bind both agents (the worker calls this first)."""
    # The directory's configurations once the worker wires them (`wiring.configs`), else the files.
    configs = wiring.configs or ConfigCache(wiring.settings.routing_dir)
    grace_ms = int(wiring.settings.presence_grace_seconds * 1000)
    router = Runtime.router = Router(_TextKeys(processor.staged(state_by_key)), configs, wiring.codec, grace_ms)
    sequencer.bind(wiring, keys=lambda msg, record: input_keys(configs.get(record["tenant_id"]), msg.topic, record))
    processor.bind(lambda msg, record: router.handle(source_of(msg), record, msg.partition, msg.key), wiring)


@app.on_partitions_revoked.connect
async def _forget_domains(app_, revoked, **kwargs) -> None:  # noqa: ARG001 (faust signal signature)
    if Runtime.router is not None:
        Runtime.router.forget()
