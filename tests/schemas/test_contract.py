"""The data contract: schemas parse, evolve compatibly, stay frozen once released, examples round-trip."""
import copy
import json
from pathlib import Path

import avro.schema
import pytest

from schemas import Codec, DecodeError, load_schema, subjects, versions
from schemas.compat import full_incompatibilities, resolves
from schemas.registry import AVRO_DIR, fingerprint, released
from schemas import plain
from tests.avro_helpers import assert_contains

EXAMPLES = Path(AVRO_DIR).parent / "examples"
ALL_VERSIONS = [(s, v) for s in subjects() for v in versions(s)]
ALL_EXAMPLES = sorted(EXAMPLES.glob("*/*.json"))


@pytest.mark.parametrize("subject,version", ALL_VERSIONS)
def test_every_version_parses_with_both_avro_libraries(subject, version):
    schema = load_schema(subject, version)
    assert avro.schema.parse(json.dumps(schema.definition)).fullname == schema.parsed["name"]


@pytest.mark.parametrize("subject,version", ALL_VERSIONS)
def test_every_event_carries_tenant_id(subject, version):
    fields = {f["name"]: f["type"] for f in load_schema(subject, version).definition["fields"]}
    assert fields.get("tenant_id") == "string"


def _enums(node):
    if isinstance(node, dict):
        if node.get("type") == "enum":
            yield node
        for value in node.values():
            yield from _enums(value)
    elif isinstance(node, list):
        for item in node:
            yield from _enums(item)


@pytest.mark.parametrize("subject,version", ALL_VERSIONS)
def test_every_enum_has_a_default_so_new_symbols_do_not_break_old_readers(subject, version):
    for enum in _enums(load_schema(subject, version).definition):
        assert enum.get("default") in enum["symbols"], enum["name"]


@pytest.mark.parametrize("subject", subjects())
def test_every_version_is_compatible_with_every_earlier_one_both_ways(subject):
    history = [load_schema(subject, v).definition for v in versions(subject)]
    for i, old in enumerate(history):
        for new in history[i + 1:]:
            assert full_incompatibilities(old, new) == []


def test_released_versions_are_frozen():
    frozen = released()
    for key, fp in frozen.items():
        subject, version = key.split("/v")
        assert load_schema(subject, int(version)).fingerprint.hex() == fp, (
            f"{key} was released and must not change: add a new version instead")


def test_the_latest_version_of_every_subject_is_released():
    assert {f"{s}/v{versions(s)[-1]}" for s in subjects()} <= set(released())


@pytest.mark.parametrize("subject", subjects())
def test_every_subject_has_examples(subject):
    assert list((EXAMPLES / subject).glob("*.json"))


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_examples_encode_and_decode_to_themselves(path):
    subject, record = path.parent.name, json.loads(path.read_text())
    codec = Codec()
    data = codec.encode(subject, record)
    assert data[:2] == b"\xc3\x01" and data[2:10] == load_schema(subject).fingerprint
    assert_contains(plain(codec.decode(data, subject)), record)


# Avro specification test vectors for CRC-64-AVRO (share/test/data/schema-tests.txt in apache/avro),
# as signed 64-bit integers the way Java's SchemaNormalization.parsingFingerprint64 returns them.
SPEC_VECTORS = [
    ('"null"', 7195948357588979594),
    ('{"type":"null"}', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('"long"', -3434872931120570953),
    ('"float"', 5583340709985441680),
    ('"double"', -8181574048448539266),
    ('"bytes"', 5746618253357095269),
    ('"string"', -8142146995180207161),
]


@pytest.mark.parametrize("schema,expected", SPEC_VECTORS)
def test_fingerprints_match_the_avro_specification(schema, expected):
    from fastavro import parse_schema

    assert int.from_bytes(fingerprint(parse_schema(json.loads(schema))), "little", signed=True) == expected


def test_single_object_header_matches_the_spec_example_for_int():
    from fastavro import parse_schema

    # Avro's own test: the single-object header of "int" is C3 01 8F 5C 39 3F 1A D5 75 72.
    assert b"\xc3\x01" + fingerprint(parse_schema("int")) == bytes.fromhex("c3018f5c393f1ad57572")


def test_unknown_fingerprint_and_garbage_are_refused_clearly():
    codec = Codec()
    with pytest.raises(DecodeError, match="unknown schema fingerprint"):
        codec.decode(b"\xc3\x01" + b"\x00" * 8 + b"\x02")
    with pytest.raises(DecodeError, match="neither"):
        codec.decode(b'{"json": "is not avro"}')
    with pytest.raises(DecodeError, match="no schema registry"):
        codec.decode(b"\x00\x00\x00\x00\x07body")


def test_decoding_truncated_body_is_a_decode_error():
    data = Codec().encode("agent-action", json.loads((EXAMPLES / "agent-action/wrap_up.json").read_text()))
    with pytest.raises(DecodeError):
        Codec().decode(data[:20], "agent-action")


# --- the compatibility checker itself: it must catch a breaking change -------------------------

def _inbound():
    return copy.deepcopy(load_schema("inbound-message").definition)


def test_checker_accepts_a_new_optional_field():
    new = _inbound()
    new["fields"].append({"name": "sentiment", "type": ["null", "float"], "default": None})
    assert full_incompatibilities(_inbound(), new) == []


def test_checker_refuses_a_new_required_field():
    new = _inbound()
    new["fields"].append({"name": "sentiment", "type": "float"})
    problems = full_incompatibilities(_inbound(), new)
    assert problems and problems[0].startswith("backward: reader_field_missing_default_value")


def test_checker_refuses_a_changed_field_type():
    new = _inbound()
    next(f for f in new["fields"] if f["name"] == "redelivery")["type"] = "string"
    assert any("type_mismatch" in p for p in full_incompatibilities(_inbound(), new))


def test_checker_refuses_removing_an_enum_symbol_without_default():
    old, new = _inbound(), _inbound()
    for schema in (old, new):
        kind = next(f for f in schema["fields"] if f["name"] == "kind")["type"]
        kind.pop("default")
    next(f for f in new["fields"] if f["name"] == "kind")["type"]["symbols"].remove("reaction")
    assert any("missing_enum_symbols" in p for p in full_incompatibilities(old, new))


def test_an_enum_default_lets_an_old_reader_accept_a_new_symbol():
    old, new = _inbound(), _inbound()
    next(f for f in new["fields"] if f["name"] == "kind")["type"]["symbols"].append("call_request")
    record = json.loads((EXAMPLES / "inbound-message/whatsapp_text.json").read_text()) | {"kind": "call_request"}
    assert resolves(record, writer=new, reader=old)["kind"] == "other"
