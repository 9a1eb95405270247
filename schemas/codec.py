"""Avro on the wire: single-object encoding by default, Confluent wire format with a schema registry.

Single-object encoding (Avro spec): 0xC3 0x01, the writer schema's 8-byte CRC-64-AVRO fingerprint
(little-endian), then the Avro binary body. Confluent wire format: 0x00, a 4-byte big-endian schema
id from the registry, then the body. Decoding accepts both, whichever mode the codec writes.
"""
from __future__ import annotations

import datetime

import io
import json
import struct
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from .registry import SchemaVersion, by_fingerprint, load_schema

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"


class DecodeError(ValueError):
    """Bytes that are not an Avro event this codec can read (unknown schema, bad header, truncated)."""


class Codec:
    """Encodes and decodes events of the contract's subjects.

    Without a registry client it writes single-object encoding; with one (see `from_settings`) it
    registers each subject's latest schema under the subject's own name and writes the Confluent
    wire format. Either way it reads both, resolving the writer's schema to the reader's (the
    subject's latest version) so old events decode with today's defaults.
    """

    def __init__(self, registry_client=None):
        self._registry = registry_client
        self._ids: dict[str, int] = {}
        self._writers_by_id: dict[int, Any] = {}

    @classmethod
    def from_settings(cls, settings) -> "Codec":
        """A codec in the mode the settings ask for (Confluent format when a registry URL is set)."""
        if not settings.schema_registry_url:
            return cls()
        from confluent_kafka.schema_registry import SchemaRegistryClient

        conf = {"url": settings.schema_registry_url}
        if settings.schema_registry_user:
            secret = settings.schema_registry_password.get_secret_value() if settings.schema_registry_password else ""
            conf["basic.auth.user.info"] = f"{settings.schema_registry_user}:{secret}"
        return cls(SchemaRegistryClient(conf))

    @property
    def wire_format(self) -> str:
        """`confluent` or `single-object`: what `encode` writes."""
        return "confluent" if self._registry else "single-object"

    def encode(self, subject: str, record: dict) -> bytes:
        """The record as an event of `subject`'s latest version."""
        schema = load_schema(subject)
        out = io.BytesIO()
        out.write(self._header(schema))
        schemaless_writer(out, schema.hinted, record)
        return out.getvalue()

    def decode(self, data: bytes, subject: str | None = None) -> dict:
        """The event as a dict, read with `subject`'s latest schema (or the writer's, if None)."""
        writer, body = self._writer_of(data)
        reader = load_schema(subject).hinted if subject else None
        try:
            return schemaless_reader(io.BytesIO(body), writer, reader)
        except Exception as exc:  # fastavro raises several types for truncated/garbled bodies
            raise DecodeError(f"cannot read Avro body: {exc}") from exc

    def _header(self, schema: SchemaVersion) -> bytes:
        if not self._registry:
            return SINGLE_OBJECT_MAGIC + schema.fingerprint
        if schema.subject not in self._ids:
            from confluent_kafka.schema_registry import Schema

            self._ids[schema.subject] = self._registry.register_schema(
                schema.subject, Schema(json.dumps(schema.definition), "AVRO"))
        return CONFLUENT_MAGIC + struct.pack(">I", self._ids[schema.subject])

    def _writer_of(self, data: bytes):
        if data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= 10:
            known = by_fingerprint().get(data[2:10])
            if known is None:
                raise DecodeError(f"unknown schema fingerprint {data[2:10].hex()}")
            return known.hinted, data[10:]
        if data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
            return self._confluent_writer(struct.unpack(">I", data[1:5])[0]), data[5:]
        raise DecodeError("neither Avro single-object encoding nor Confluent wire format")

    def _confluent_writer(self, schema_id: int):
        if schema_id not in self._writers_by_id:
            if not self._registry:
                raise DecodeError(f"Confluent-framed event (schema id {schema_id}) but no schema registry configured")
            from confluent_kafka.schema_registry.error import SchemaRegistryError

            try:
                schema = self._registry.get_schema(schema_id)
            except SchemaRegistryError as exc:
                if exc.http_status_code == 404:
                    raise DecodeError(f"schema id {schema_id} is unknown to the schema registry") from exc
                raise  # 5xx or auth: transient or configuration problems, not a bad event
            if schema.schema_type not in (None, "AVRO"):
                raise DecodeError(f"schema id {schema_id} is a {schema.schema_type} schema, not Avro")
            try:
                self._writers_by_id[schema_id] = parse_schema(json.loads(schema.schema_str))
            except Exception as exc:  # fastavro raises several types for invalid schemas
                raise DecodeError(f"schema id {schema_id} is not a valid Avro schema: {exc}") from exc
        return self._writers_by_id[schema_id]


def plain(value):
    """A decoded record as JSON data: timestamp-millis datetimes back to epoch milliseconds."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
