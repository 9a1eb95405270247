"""Avro subjects as files: schemas/avro/<subject>/v<N>.avsc, with shared named types in avro/common.

A shared type is either one file, `common/<Name>.avsc`, or versioned, `common/<Name>/v<N>.avsc`
(every version keeps the same full name, so Avro resolves one against another). A subject version
names the type (`cx.switchboard.common.ContentItem`), never its version: a released subject
version is expanded with the type versions whose expansion gives its frozen fingerprint
(`released.json`), so it keeps reading and writing what it shipped with; any other version gets
the newest type versions. So a new type version reaches every new subject version by itself.
"""
from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from functools import cache, cached_property
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

    @cached_property
    def hinted(self) -> dict:
        """The parsed form fastavro keeps its parse in (`__fastavro_parsed`, its named types): what the
        codec writes and reads with. Handed `parsed`, fastavro parses the schema again on every call,
        which cost twice the encoding itself (~120 us a record of the larger subjects)."""
        return parse_schema(self.definition)

    @property
    def canonical(self) -> str:
        """The Parsing Canonical Form (what the fingerprint is computed over)."""
        return to_parsing_canonical_form(self.parsed)


@cache
def common_versions() -> dict[str, list[dict]]:
    """Every shared named type by full name, its versions oldest first (one for an unversioned type)."""
    types: dict[str, list[dict]] = {}
    flat = [[p] for p in sorted(COMMON_DIR.glob("*.avsc"))]
    versioned = [sorted(d.glob("v*.avsc"), key=lambda p: int(p.stem[1:]))
                 for d in sorted(COMMON_DIR.iterdir()) if d.is_dir()]
    for paths in flat + versioned:
        for path in paths:
            definition = json.loads(path.read_text())
            types.setdefault(f"{definition['namespace']}.{definition['name']}", []).append(definition)
    return types


def _type_sets() -> list[dict[str, dict]]:
    """Every combination of shared type versions, the newest first."""
    names = list(common_versions())
    choices = [reversed(common_versions()[name]) for name in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*choices)]


def _common_types() -> dict[str, dict]:
    return _type_sets()[0]


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


def expand(definition: dict | list | str, types: dict[str, dict] | None = None) -> dict | list | str:
    """A schema with every shared named type it uses defined inline (the newest versions unless
    `types` says otherwise): self-contained, registrable."""
    return _inline(copy.deepcopy(definition), types or _common_types(), set())


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
    """A subject's schema at `version` (default: the latest): one object per version, so the codec's
    reader and writer schemas are the same object when an event is of the latest version."""
    return _load(subject, version or versions(subject)[-1])


@cache
def _load(subject: str, version: int) -> SchemaVersion:
    path = AVRO_DIR / subject / f"v{version}.avsc"
    if not path.exists():
        raise UnknownSubject(f"subject {subject!r} has no version {version} ({path})")
    raw = json.loads(path.read_text())
    frozen = released().get(f"{subject}/v{version}")
    candidates = [_parsed(expand(raw, types)) for types in _type_sets()]
    definition, parsed, fp = next((c for c in candidates if c[2].hex() == frozen), candidates[0])
    return SchemaVersion(subject, version, definition, parsed, fp)


def _parsed(definition: dict) -> tuple[dict, dict, bytes]:
    parsed = parse_schema(definition, _write_hint=False)
    return definition, parsed, fingerprint(parsed)


@cache
def by_fingerprint() -> dict[bytes, SchemaVersion]:
    """Every known version of every subject, by fingerprint: what a single-object decoder needs."""
    return {sv.fingerprint: sv for s in subjects() for v in versions(s)
            for sv in [load_schema(s, v)]}


def released() -> dict[str, str]:
    """Released versions ("subject/vN") and their frozen fingerprints (hex)."""
    return json.loads(RELEASED_FILE.read_text())
