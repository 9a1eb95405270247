"""The codec's Confluent wire format against a real registry and Confluent's own Avro serde.

The `schema_registry_url` fixture (tests/registry_fixture.py) runs Apicurio Registry, which
answers Confluent's REST API. These tests prove that what `Codec(registry_client)` writes is what
confluent-kafka's AvroDeserializer reads, and the reverse, so a Confluent-serde consumer or
producer elsewhere interoperates with Switchboard's topics.
"""
from __future__ import annotations

import datetime as dt
import json
import struct
import uuid
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from schemas import Codec, DecodeError, load_schema, subjects
from schemas.codec import CONFLUENT_MAGIC, SINGLE_OBJECT_MAGIC
from schemas.registry import AVRO_DIR
from tests.avro_helpers import assert_contains

EXAMPLES_DIR = Path(AVRO_DIR).parent / "examples"
EXAMPLES = sorted((s, p) for s in subjects() for p in (EXAMPLES_DIR / s).glob("*.json"))
EXAMPLE_IDS = [f"{s}/{p.stem}" for s, p in EXAMPLES]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MILLISECOND = dt.timedelta(milliseconds=1)


def _plain(value):
    """The record with timestamp-millis datetimes back as epoch milliseconds (exact integers)."""
    if isinstance(value, dt.datetime):
        return (value - EPOCH) // MILLISECOND
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _context(subject: str) -> SerializationContext:
    return SerializationContext(f"topic-of-{subject}", MessageField.VALUE)


@pytest.fixture(scope="module")
def registry(schema_registry_url: str) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": schema_registry_url})


@pytest.fixture(scope="module")
def codec(registry: SchemaRegistryClient) -> Codec:
    return Codec(registry)


def test_every_subject_has_an_example():
    assert {s for s, _ in EXAMPLES} == set(subjects())


@pytest.mark.parametrize("subject,path", EXAMPLES, ids=EXAMPLE_IDS)
def test_codec_writes_confluent_framing_that_confluent_and_the_codec_read(
        subject, path, codec, registry, schema_registry_url):
    record = json.loads(path.read_text())
    data = codec.encode(subject, record)

    assert codec.wire_format == "confluent"
    assert data[:1] == CONFLUENT_MAGIC
    schema_id = struct.unpack(">I", data[1:5])[0]
    latest = registry.get_latest_version(subject)  # registered under the subject's own name
    assert latest.schema_id == schema_id
    assert json.loads(latest.schema.schema_str) == json.loads(json.dumps(load_schema(subject).definition))

    ours = codec.decode(data, subject)
    # A fresh client, so nothing cached from the encode helps: the id must resolve in the registry.
    theirs = AvroDeserializer(SchemaRegistryClient({"url": schema_registry_url}))(data, _context(subject))
    assert ours == theirs
    assert_contains(_plain(ours), record)  # examples may leave out fields that have defaults
    assert codec.decode(data) == ours  # with the writer's schema only


@pytest.mark.parametrize("subject,path", EXAMPLES, ids=EXAMPLE_IDS)
def test_codec_reads_what_confluents_serializer_writes(subject, path, codec, registry):
    record = json.loads(path.read_text())
    schema_str = json.dumps(load_schema(subject).definition)
    registry.register_schema(subject, Schema(schema_str, "AVRO"))  # as a producer's CI would
    serializer = AvroSerializer(registry, schema_str, conf={
        "auto.register.schemas": False,
        "use.latest.version": False,
        "subject.name.strategy": lambda ctx, record_name: subject,
    })
    data = serializer(record, _context(subject))

    assert data[:1] == CONFLUENT_MAGIC
    registered = registry.lookup_schema(subject, Schema(schema_str, "AVRO"))
    assert struct.unpack(">I", data[1:5])[0] == registered.schema_id
    assert codec.decode(data, subject) == AvroDeserializer(registry)(data, _context(subject))
    assert_contains(_plain(codec.decode(data, subject)), record)
    assert data == codec.encode(subject, record)  # same header, same body: byte-for-byte


@pytest.mark.parametrize("subject,path", EXAMPLES, ids=EXAMPLE_IDS)
def test_registry_backed_codec_reads_single_object_encoding(subject, path, codec):
    record = json.loads(path.read_text())
    data = Codec().encode(subject, record)

    assert data[:2] == SINGLE_OBJECT_MAGIC
    assert codec.decode(data, subject) == Codec().decode(data, subject)
    assert_contains(_plain(codec.decode(data, subject)), record)


def test_plain_codec_refuses_confluent_framing_it_cannot_resolve(codec):
    subject, path = EXAMPLES[0]
    data = codec.encode(subject, json.loads(path.read_text()))
    with pytest.raises(DecodeError, match="no schema registry"):
        Codec().decode(data, subject)


def test_unknown_schema_id_is_a_decode_error(codec):
    """Bytes that name an id the registry never issued are a bad event, like an unknown fingerprint."""
    subject, path = EXAMPLES[0]
    body = codec.encode(subject, json.loads(path.read_text()))[5:]
    with pytest.raises(DecodeError):
        codec.decode(CONFLUENT_MAGIC + struct.pack(">I", 987_654_321) + body, subject)


def _record(name: str, fields: list[dict]) -> Schema:
    return Schema(json.dumps({"type": "record", "name": name, "namespace": "io.switchboard.test",
                              "fields": fields}), "AVRO")


def test_registry_refuses_an_incompatible_version_under_backward(registry):
    subject = f"switchboard-test-{uuid.uuid4().hex}"
    registry.set_compatibility(subject, "BACKWARD")  # also the global default the fixture sets
    v1 = [{"name": "tenant_id", "type": "string"}]
    first = registry.register_schema(subject, _record("Probe", v1))

    # A new required field: a v2 reader cannot read v1 events, so BACKWARD refuses it.
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register_schema(subject, _record("Probe", [*v1, {"name": "queue_id", "type": "string"}]))
    assert refused.value.http_status_code == 409

    # The same field with a default is backward compatible and is accepted as the next version.
    second = registry.register_schema(
        subject, _record("Probe", [*v1, {"name": "queue_id", "type": ["null", "string"], "default": None}]))
    assert second != first
    assert registry.get_versions(subject) == [1, 2]
