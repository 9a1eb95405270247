"""The topic catalogue: every topic declared once, as data, in topics.yaml."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CATALOGUE_FILE = Path(__file__).with_name("topics.yaml")
RAW = "raw"  # value of a dead-letter topic: the original bytes, not an Avro subject
DLQ_PARTITIONS = 1


@dataclass(frozen=True)
class Topic:
    """One Kafka topic: its key, value subject, layout, configs and who uses it."""

    name: str
    key: str
    value: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict, hash=False)
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    dlq: str | None = None
    dlq_of: str | None = None
    doc: str = ""

    @property
    def is_dlq(self) -> bool:
        """True for a dead-letter topic."""
        return self.dlq_of is not None

    @property
    def compacted(self) -> bool:
        """True when Kafka keeps only the latest record per key."""
        return "compact" in self.config.get("cleanup.policy", "")


class UnknownTopic(KeyError):
    """A topic name that the catalogue does not declare."""


def _dlq(entry: dict, source: Topic, retention_ms: int) -> Topic:
    return Topic(
        name=entry["name"], key=source.key, value=RAW, partitions=DLQ_PARTITIONS,
        config={"cleanup.policy": "delete", "retention.ms": str(retention_ms)},
        producers=tuple(entry.get("producers", source.consumers)),
        consumers=("switchboard dlq replay",), dlq_of=source.name,
        doc=f"Dead letters of `{source.name}`: raw bytes, provenance in headers.",
    )


def _topic(entry: dict) -> Topic:
    return Topic(
        name=entry["name"], key=entry["key"], value=entry["value"],
        partitions=int(entry["partitions"]),
        config={k: str(v) for k, v in entry.get("config", {}).items()},
        producers=tuple(entry.get("producers", ())), consumers=tuple(entry.get("consumers", ())),
        dlq=entry.get("dlq"), doc=entry.get("doc", ""),
    )


@cache
def catalogue() -> dict[str, Topic]:
    """All declared topics by name, in declaration order."""
    data = yaml.safe_load(CATALOGUE_FILE.read_text())
    retention = int(data["defaults"]["dlq_retention_ms"])
    topics: dict[str, Topic] = {}
    for entry in data["topics"]:
        if "dlq_of" in entry:
            topics[entry["name"]] = _dlq(entry, topics[entry["dlq_of"]], retention)
        else:
            topics[entry["name"]] = _topic(entry)
    return topics


def topic(name: str) -> Topic:
    """The declared topic called `name`; UnknownTopic if the catalogue lacks it."""
    try:
        return catalogue()[name]
    except KeyError:
        raise UnknownTopic(f"topic {name!r} is not declared in {CATALOGUE_FILE}") from None
