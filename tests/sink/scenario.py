"""The recorded scenario of tests/fixtures/sink, made a test's own by its tenant id."""
from __future__ import annotations

import json
from pathlib import Path

from schemas import Codec, topic
from sink.rows import rows_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sink"


def load(name: str, tenant: str) -> dict:
    """The fixture file with every TENANT replaced by `tenant`."""
    return json.loads((FIXTURES / name).read_text().replace("TENANT", tenant))


def key_of(record: dict) -> str:
    """The record's Kafka key as its topic declares it (thread key, conversation or customer id)."""
    for field in ("thread_key", "conversation_id", "customer_id", "agent_id"):
        if record.get(field):
            return record[field]
    return record["tenant_id"]


def encoded(events: list[dict], codec: Codec | None = None) -> list[tuple[str, str, bytes]]:
    """(topic, key, Avro value) of each scenario event."""
    codec = codec or Codec()
    return [(e["topic"], key_of(e["record"]), codec.encode(topic(e["topic"]).value, e["record"]))
            for e in events]


def store_directly(store, events: list[dict], codec: Codec | None = None) -> None:
    """Write the events' fact rows straight into the store (what the sink does, without Kafka)."""
    codec = codec or Codec()
    for name, _, value in encoded(events, codec):
        subject = topic(name).value
        for table, row in rows_of(subject, codec.decode(value, subject)):
            store.insert(table, [row])
