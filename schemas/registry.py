"""Avro subjects as files: schemas/avro/<subject>/v<N>.avsc, with shared named types in avro/common."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastavro import parse_schema
from fastavro.schema import fingerprint as _fingerprint
from fastavro.schema import to_parsing_canonical_form

AVRO_DIR = Path(__file__).with_name("avro")
COMMON_DIR = AVRO_DIR / "common"
RELEASED_FILE = AVRO_DIR / "released.json"


class UnknownSubject(KeyError):
    """A subject or version that has no .avsc file."""


@dataclass(frozen=True)
class SchemaVersion:
    """One version of a subject: its expanded JSON, parsed form and CRC-64-AVRO fingerprint."""

    subject: str
    version: int
    definition: dict
    parsed: dict
    fingerprint: bytes  # 8 bytes, little-endian, as the single-object header carries it

    @property
    def canonical(self) -> str:
        """The Parsing Canonical Form (what the fingerprint is computed over)."""
        return to_parsing_canonical_form(self.parsed)


@cache
def _common_types() -> dict[str, dict]:
    types = {}
    for path in sorted(COMMON_DIR.glob("*.avsc")):
        definition = json.loads(path.read_text())
        types[f"{definition['namespace']}.{definition['name']}"] = definition
    return types


def _inline(node, types: dict[str, dict], defined: set[str]):
    """Replace the first reference to each shared named type by its definition (later ones stay names)."""
    if isinstance(node, str):
        if node in types and node not in defined:
            defined.add(node)
            return _inline(copy.deepcopy(types[node]), types, defined)
        return node
    if isinstance(node, list):
        return [_inline(item, types, defined) for item in node]
    if isinstance(node, dict):
        return {key: (value if key in ("name", "namespace", "doc", "default", "symbols")
                      else _inline(value, types, defined)) for key, value in node.items()}
    return node


def expand(definition: dict | list | str) -> dict | list | str:
    """A schema with every shared named type it uses defined inline: self-contained, registrable."""
    return _inline(copy.deepcopy(definition), _common_types(), set())


def fingerprint(parsed) -> bytes:
    """CRC-64-AVRO of the canonical form, little-endian (fastavro's hex is already in that order)."""
    return bytes.fromhex(_fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


def subjects() -> list[str]:
    """Every subject that has at least one version."""
    return sorted(p.name for p in AVRO_DIR.iterdir() if p.is_dir() and p.name != "common"
                  and any(p.glob("v*.avsc")))


def versions(subject: str) -> list[int]:
    """The version numbers of a subject, ascending."""
    found = sorted(int(p.stem[1:]) for p in (AVRO_DIR / subject).glob("v*.avsc"))
    if not found:
        raise UnknownSubject(f"no schema for subject {subject!r} under {AVRO_DIR}")
    return found


@cache
def load_schema(subject: str, version: int | None = None) -> SchemaVersion:
    """A subject's schema at `version` (default: the latest)."""
    version = version or versions(subject)[-1]
    path = AVRO_DIR / subject / f"v{version}.avsc"
    if not path.exists():
        raise UnknownSubject(f"subject {subject!r} has no version {version} ({path})")
    definition = expand(json.loads(path.read_text()))
    parsed = parse_schema(definition, _write_hint=False)
    return SchemaVersion(subject, version, definition, parsed, fingerprint(parsed))


@cache
def by_fingerprint() -> dict[bytes, SchemaVersion]:
    """Every known version of every subject, by fingerprint: what a single-object decoder needs."""
    return {sv.fingerprint: sv for s in subjects() for v in versions(s)
            for sv in [load_schema(s, v)]}


def released() -> dict[str, str]:
    """Released versions ("subject/vN") and their frozen fingerprints (hex)."""
    return json.loads(RELEASED_FILE.read_text())
