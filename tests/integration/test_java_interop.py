"""A Java consumer reads every topic and decodes every subject, with Apache Avro's own decoders.

`tests/interop/java` (Maven: `org.apache.avro:avro` and `org.apache.kafka:kafka-clients` at the
local broker's version, from Maven Central) is built once per version of it (tests/interop/build.py).
A short run writes, through the project's codec and producer, records of every subject's examples
to per-test copies of the catalogue topics (the session broker's own catalogue topics are read by
other tests' workers): every Avro topic, and the input logs with records of each of their sources.
The Java program reads them back and prints the decoded values as Avro JSON; each must equal, field
by field, what Python encoded read with the subject's latest version (fastavro's Avro JSON).

- single-object encoding: a `BinaryMessageDecoder` whose `SchemaStore` holds every version of
  every subject, so the header's fingerprint picks the writer; every version of every subject is
  written (an older version as an older release would write it: its own fingerprint and body);
- the Confluent wire format with the session's registry: the 5-byte header, the writer schema from
  the registry's `GET /schemas/ids/{id}`, Avro's `GenericDatumReader` (Confluent's own Java
  deserializer is not on Maven Central).
"""
from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from fastavro import json_writer, schemaless_writer
from fastavro.validation import validate

from deploy.kafka.topics import create_topics
from schemas import Codec, catalogue, load_schema, plain, subjects
from schemas.catalogue import RAW, Topic
from schemas.codec import SINGLE_OBJECT_MAGIC
from schemas.registry import AVRO_DIR, versions
from streams.sequencer import SOURCE_HEADER
from switchboard.kafka import producer
from tests.avro_helpers import assert_contains
from tests.interop.build import BuildFailed, reader_command

pytestmark = pytest.mark.kafka
EXAMPLES_DIR = Path(AVRO_DIR).parent / "examples"
UNFRAMED = {"conversation-due-index"}   # plain bytes (a thread key, a due time), no Avro subject
# An input log holds the records of its processor's source topics, unchanged (streams/sequencer.py).
INPUT_LOGS = {"conversation-inputs", "routing-inputs", "account-inputs"}


@pytest.fixture(scope="session")
def java_reader() -> list[str]:
    """The command that runs the Java reader (tests/interop/build.py: built once per version of it)."""
    try:
        return reader_command()
    except BuildFailed as failed:
        pytest.fail(str(failed))


def _examples(subject: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((EXAMPLES_DIR / subject).glob("*.json"))]


def _single_object(subject: str, version: int, record: dict) -> bytes:
    """The record as the release whose latest version was `version` wrote it (schemas/codec.py)."""
    schema = load_schema(subject, version)
    out = io.BytesIO()
    out.write(SINGLE_OBJECT_MAGIC + schema.fingerprint)
    schemaless_writer(out, schema.parsed, record)
    return out.getvalue()


def _values(codec: Codec, subject: str, every_version: bool) -> list[tuple[bytes, dict, int]]:
    """Every example of the subject at its latest version, and with `every_version` one at each older
    version (the first example that is valid there)."""
    examples = _examples(subject)
    assert examples, f"{subject} has no example under {EXAMPLES_DIR}"
    latest = versions(subject)[-1]
    values = [(codec.encode(subject, record), record, latest) for record in examples]
    for version in versions(subject)[:-1] if every_version else ():
        fits = [r for r in examples if validate(r, load_schema(subject, version).parsed, raise_errors=False)]
        assert fits, f"no example of {subject} is valid at v{version}: add one under {EXAMPLES_DIR / subject}"
        values.append((_single_object(subject, version, fits[0]), fits[0], version))
    return values


def _avro_json(subject: str, record: dict) -> dict:
    """The record in Avro's JSON encoding under the subject's latest version (fastavro)."""
    out = io.StringIO()
    json_writer(out, load_schema(subject).parsed, [record])
    return json.loads(out.getvalue())


def _short_run(bootstrap: str, codec: Codec, every_version: bool) -> tuple[dict[str, str], dict[str, tuple]]:
    """Records of every subject on per-test copies of the catalogue's topics.

    Returns the copies (catalogue name -> topic) and what was sent by key: (topic, subject, bytes,
    the example, the version it was written with).
    """
    suffix = f"interop-{uuid.uuid4().hex[:12]}"
    declared = [t for t in catalogue().values()
                if not t.is_dlq and t.name not in UNFRAMED and (t.value != RAW or t.name in INPUT_LOGS)]
    names = {t.name: f"{t.name}.{suffix}" for t in declared}
    create_topics(bootstrap, [Topic(name=names[t.name], key=t.key, value=t.value, partitions=1, config=t.config)
                              for t in declared])
    sent, out = {}, producer({"bootstrap.servers": bootstrap})

    def send(name: str, subject: str, value: tuple[bytes, dict, int], headers: dict[str, str] | None = None) -> None:
        key = f"{name}#{len(sent)}"
        out.produce(names[name], key=key, value=value[0], headers=headers or {})
        sent[key] = (names[name], subject, *value)

    for t in declared:
        if t.value != RAW:
            for value in _values(codec, t.value, every_version):
                send(t.name, t.value, value)
    for log in INPUT_LOGS:   # a record of each source, unchanged, its source topic in a header
        (processor,) = catalogue()[log].producers
        for source in (t for t in declared if processor in t.consumers and t.value != RAW and not t.compacted):
            send(log, source.value, _values(codec, source.value, every_version=False)[0], {SOURCE_HEADER: source.name})
    assert out.flush(10) == 0, "the broker did not take every record of the short run"
    return names, sent


def _read_in_java(java_reader: list[str], tmp_path: Path, bootstrap: str, names: dict[str, str],
                  registry: str | None) -> dict:
    config = {
        "bootstrap": bootstrap, "registry": registry,
        "topics": {topic: (None if catalogue()[name].value == RAW else catalogue()[name].value)
                   for name, topic in names.items()},
        "sources": {name: t.value for name, t in catalogue().items() if not t.is_dlq and t.value != RAW},
        "schemas": {s: [json.dumps(load_schema(s, v).definition) for v in versions(s)] for s in subjects()},
    }
    (tmp_path / "interop.json").write_text(json.dumps(config))
    done = subprocess.run([*java_reader, str(tmp_path / "interop.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the Java reader failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


def _check(read: dict, names: dict[str, str], sent: dict[str, tuple], codec: Codec, encoding: str) -> None:
    assert read["failures"] == []
    topics = read["topics"]
    assert set(topics) == set(names.values())
    for name, topic in names.items():
        expected = sum(1 for t, *_ in sent.values() if t == topic)
        assert expected > 0 and topics[topic]["count"] == expected, f"{name}: {topics[topic]['count']} of {expected}"
    decoded = {r["key"]: r for t in topics.values() for r in t["records"]}
    assert set(decoded) == set(sent), "every record the short run wrote is decoded once"
    for key, (topic, subject, value, example, version) in sent.items():
        got = decoded[key]
        assert (got["subject"], got["encoding"]) == (subject, encoding), key
        if encoding == "single-object":
            assert got["fingerprint"] == value[2:10].hex(), f"{key}: the SchemaStore picked another writer"
        else:
            assert got["schema_id"] == int.from_bytes(value[1:5], "big"), key
        python = codec.decode(value, subject)
        if version == versions(subject)[-1]:   # (an older version's record has the latest's defaults)
            assert_contains(plain(python), example)
        want = _avro_json(subject, python)
        assert set(got["value"]) == set(want), f"{key}: fields {sorted(set(got['value']) ^ set(want))}"
        for field, expected in want.items():
            assert got["value"][field] == expected, f"{key} ({subject}) field {field}"
    assert {decoded[k]["subject"] for k in sent} == set(subjects()), "every subject decoded at least once"


def test_a_java_consumer_decodes_every_subject_in_single_object_encoding(
        java_reader, kafka_bootstrap, tmp_path):
    codec = Codec()
    names, sent = _short_run(kafka_bootstrap, codec, every_version=True)
    read = _read_in_java(java_reader, tmp_path, kafka_bootstrap, names, registry=None)
    _check(read, names, sent, codec, "single-object")
    writers = {decoded["fingerprint"] for t in read["topics"].values() for decoded in t["records"]}
    assert writers == {load_schema(s, v).fingerprint.hex() for s in subjects() for v in versions(s)}, \
        "every version of every subject is a writer the Java SchemaStore resolved"


def test_a_java_consumer_decodes_every_subject_in_the_confluent_wire_format(
        java_reader, kafka_bootstrap, schema_registry_url, tmp_path):
    codec = Codec(SchemaRegistryClient({"url": schema_registry_url}))
    names, sent = _short_run(kafka_bootstrap, codec, every_version=False)
    read = _read_in_java(java_reader, tmp_path, kafka_bootstrap, names, registry=schema_registry_url)
    _check(read, names, sent, codec, "confluent")
