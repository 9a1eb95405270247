"""Schema evolution checks: can a reader of one version read what a writer of another wrote?

The static check is Apache Avro's own `ReaderWriterCompatibilityChecker`; `resolves` adds a dynamic
check with fastavro's schema resolution on a concrete record, the path the codec really takes.
"""
from __future__ import annotations

import io
import json

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from fastavro import parse_schema, schemaless_reader, schemaless_writer


def incompatibilities(reader: dict, writer: dict) -> list[str]:
    """Why `reader` cannot read data written with `writer` (empty when it can)."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(json.dumps(reader)), avro.schema.parse(json.dumps(writer)))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    return [f"{kind.name}: {message} at {location}" for kind, message, location
            in zip(result.incompatibilities, result.messages, result.locations)]


def full_incompatibilities(old: dict, new: dict) -> list[str]:
    """Problems in either direction: new readers of old data (backward), old readers of new (forward)."""
    return ([f"backward: {p}" for p in incompatibilities(reader=new, writer=old)]
            + [f"forward: {p}" for p in incompatibilities(reader=old, writer=new)])


def resolves(record: dict, writer: dict, reader: dict) -> dict:
    """`record` written with `writer` and read back with `reader` (fastavro schema resolution)."""
    buf = io.BytesIO()
    schemaless_writer(buf, parse_schema(writer), record)
    buf.seek(0)
    return schemaless_reader(buf, parse_schema(writer), parse_schema(reader))
