"""faust plumbing of the identity matcher: one agent over identity-claims, one table per detail.

identity-claims is keyed by the normalized detail, and so is `customer_by_detail` (changelog
identity-state, same partition count): every claim of a detail meets its state on one partition.
Per claim: decide (pure), produce the events and wait for their acks, then write the state. A
crash before the write replays the claim on the old state and produces the same events with the
same ids; a crash after it finds the claimant recorded and produces nothing. Faust acks an event
even when the agent raises, so each claim is handled in its own try: bad input goes to
identity-claims-dlq, broker trouble is retried and, if it lasts, stops the worker uncommitted.
"""
from __future__ import annotations

import logging
import os

import faust

from schemas import Codec, DecodeError, topic
from streams.app import app
from streams.produce import ProduceFailed, send_all
from switchboard.dlq import dlq_headers, dlq_topic

from .matching import decide
from .normalize import claim_key, normalize_detail

log = logging.getLogger(__name__)
STAGE = "streams.identity"
CLAIMS, EVENTS, STATE = topic("identity-claims"), topic("identity-events"), topic("identity-state")
PERMANENT = (DecodeError, KeyError, ValueError, TypeError, AttributeError)  # retrying will not help
# Identity entries are tiny and few next to messages: a small RocksDB per partition is plenty.
ROCKSDB_OPTIONS = {"write_buffer_size": 4 << 20, "max_write_buffer_number": 2, "block_cache_size": 8 << 20,
                   "target_file_size_base": 8 << 20, "max_open_files": 128}
RAW = faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

# key_type/value_type bytes on the table itself (a `schema` argument is ignored there): with a
# RocksDB store the values are serialized, and only bytes pass through untouched.
customer_by_detail = app.Table("customer_by_detail", key_type=bytes, value_type=bytes, partitions=STATE.partitions,
                               changelog_topic=app.topic(STATE.name, schema=RAW, partitions=STATE.partitions),
                               options=ROCKSDB_OPTIONS, help="Detail state by claim key (subject identity-state).")
claims = app.topic(CLAIMS.name, schema=RAW, partitions=CLAIMS.partitions)
metrics = {"applied": 0, "unchanged": 0, "events": 0, "dead_letters": 0}


class Runtime:
    """The codec, replaced by `setup` when a schema registry is configured."""

    codec = Codec()


def setup(settings, options=None) -> None:  # noqa: ARG001 (the worker's processor hook)
    """Use the settings' wire format (the worker calls this before the app starts)."""
    Runtime.codec = Codec.from_settings(settings)


@app.agent(claims, name="match_identity_claims")
async def match_identity_claims(stream) -> None:
    """Match each claimed detail against the customers known for it: link, merge or flag."""
    async for event in stream.events():
        msg = event.message
        try:
            key, state, claim = _read(msg)
            new_state, events = decide(state, claim)
            records = [(EVENTS.name, e["customer_id"].encode(), Runtime.codec.encode("identity-event", e), None)
                       for e in events]
        except PERMANENT as exc:
            await _dead_letter(msg, exc)
            continue
        await _produce(records)
        _write(key, state, new_state)


def _read(msg) -> tuple[bytes, dict | None, dict]:
    """The claim, its table key (checked against the record key) and the detail's state."""
    claim = Runtime.codec.decode(msg.value, "identity-claim")
    if normalize_detail(claim["detail_type"], claim["detail_value"]) != claim["detail_value"]:
        raise ValueError(f"{claim['detail_type']} {claim['detail_value']!r} is not normalized")
    key = claim_key(claim["tenant_id"], claim["detail_type"], claim["detail_value"]).encode()
    if msg.key != key:  # a wrong key would put the detail's state on another partition
        raise ValueError(f"record key {msg.key!r} is not the claim's detail key {key!r}")
    data = customer_by_detail.get(key)
    return key, Runtime.codec.decode(data, "identity-state") if data else None, claim


def _write(key: bytes, old: dict | None, new: dict | None) -> None:
    if new is None or new is old:
        metrics["unchanged"] += 1
        return
    customer_by_detail[key] = Runtime.codec.encode("identity-state", new)
    metrics["applied"] += 1


async def _produce(records: list) -> None:
    """Send and await every ack; if the broker stays unreachable, exit uncommitted."""
    try:
        await send_all(records)
    except ProduceFailed:
        # Returning would let faust ack the claim and lose its decision: stop without committing.
        log.critical("cannot produce to Kafka; exiting without committing so the claim is reprocessed")
        os._exit(70)
    metrics["events"] += len(records)


async def _dead_letter(msg, exc: Exception) -> None:
    metrics["dead_letters"] += 1
    log.warning("dead letter from %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, exc)
    headers = dlq_headers(msg.topic, stage=STAGE, error=f"{type(exc).__name__}: {exc}",
                          partition=msg.partition, offset=msg.offset)
    await _produce([(dlq_topic(msg.topic), msg.key, msg.value, headers)])
