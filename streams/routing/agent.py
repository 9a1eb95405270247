"""The routing processor: one faust agent over routing-requests, agent-actions and routing-ticks.

All three topics are keyed by tenant and have the same partition count, so a tenant's events
arrive on one partition number and one worker owns its ACD. Table writes go to the changelog
partition of the event being processed (faust 0.15 `Table.partition_for_key`), so the
`<tenant>:…` entries stay with the tenant's partition. Faust acks an event even if the agent
raises, so each event is handled in its own try: bad input goes to the topic's dead-letter topic,
a failed domain is rebuilt from the table on its next event.
"""
from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping

from schemas import DecodeError, topic
from switchboard.dlq import dlq_headers, dlq_topic
from switchboard.settings import load_settings

from ..app import app
from .config import ConfigCache
from .router import REQUESTS, SUBJECTS, Router

log = logging.getLogger(__name__)
STATE = topic("routing-state")


def _raw(name: str):
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


source = app.topic(*SUBJECTS, key_type=bytes, value_type=bytes, key_serializer="raw",
                   value_serializer="raw", acks=True)
state_by_key = app.Table(
    STATE.name, key_type=bytes, value_type=bytes, partitions=STATE.partitions,
    changelog_topic=app.topic(STATE.name, key_type=bytes, value_type=bytes, key_serializer="raw",
                              value_serializer="raw", partitions=STATE.partitions, internal=False),
    options={"write_buffer_size": 8 << 20, "max_write_buffer_number": 2})


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


router = Router(_TextKeys(state_by_key), ConfigCache(load_settings().routing_dir))
_outputs: dict[str, object] = {}


@app.on_partitions_revoked.connect
async def _forget_domains(app_, revoked, **kwargs) -> None:  # noqa: ARG001 (faust signal signature)
    router.forget()


@app.agent(source, name="route_conversations")
async def route_conversations(stream) -> None:
    """Apply each routing event to its domain's ACD and produce what it decided."""
    async for event in stream.events():
        message = event.message
        try:
            records = router.handle(message.topic, event.value, message.partition)
        except Exception as exc:  # noqa: BLE001 - per event, so one bad event cannot stop routing
            await _dead_letter(message, event.value, exc)
            continue
        for name, key, value in records:
            await _topic(name).send(key=key, value=value)


def _topic(name: str):
    if name not in _outputs:
        _outputs[name] = _raw(name)
    return _outputs[name]


async def _dead_letter(message, value: bytes, exc: Exception) -> None:
    if not isinstance(exc, (DecodeError, KeyError, ValueError)):
        log.exception("routing failed on %s[%s]@%s", message.topic, message.partition, message.offset)
    key = message.key.decode() if isinstance(message.key, bytes) else str(message.key)
    router.discard(key)  # the next event of this domain rebuilds it from the table
    stage = "routing" if message.topic != REQUESTS else "routing-request"
    headers = dlq_headers(message.topic, stage=stage, error=f"{type(exc).__name__}: {exc}",
                          partition=message.partition, offset=message.offset, now_ms=int(time.time() * 1000))
    await _raw(dlq_topic(message.topic)).send(key=message.key, value=value, headers=headers)
