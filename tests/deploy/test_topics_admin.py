"""Catalogue topics on the real broker: partitions, compaction, DLQ retention, idempotent create."""
from __future__ import annotations

import pytest

from deploy.kafka.topics import create_topics, describe_topic, list_topics
from schemas.catalogue import catalogue

pytestmark = pytest.mark.kafka


def test_every_catalogue_topic_exists_with_its_partitions(kafka_bootstrap: str) -> None:
    assert set(catalogue()) <= set(list_topics(kafka_bootstrap))
    for topic in catalogue().values():
        described = describe_topic(kafka_bootstrap, topic.name)
        assert (described["partitions"], described["replication_factor"]) == (topic.partitions, 1)


def test_topics_carry_their_declared_configs(kafka_bootstrap: str) -> None:
    for topic in catalogue().values():
        assert describe_topic(kafka_bootstrap, topic.name)["config"] == topic.config, topic.name


def test_compacted_topics_are_compacted(kafka_bootstrap: str) -> None:
    compacted = [t for t in catalogue().values() if t.compacted]
    assert compacted, "the catalogue declares at least one compacted topic"
    for topic in compacted:
        policy = describe_topic(kafka_bootstrap, topic.name)["config"]["cleanup.policy"]
        assert policy == topic.config["cleanup.policy"] and "compact" in policy.split(",")


def test_dead_letter_topics_keep_their_long_retention(kafka_bootstrap: str) -> None:
    dlqs = [t for t in catalogue().values() if t.is_dlq]
    assert dlqs
    for topic in dlqs:
        config = describe_topic(kafka_bootstrap, topic.name)["config"]
        assert config["retention.ms"] == topic.config["retention.ms"]
        assert int(config["retention.ms"]) > 7 * 24 * 3600 * 1000  # longer than the sources' week


def test_create_topics_is_idempotent(kafka_bootstrap: str, new_topic) -> None:
    assert create_topics(kafka_bootstrap, catalogue().values()) == []

    name = new_topic(partitions=2, config={"cleanup.policy": "compact"})
    described = describe_topic(kafka_bootstrap, name)
    assert (described["partitions"], described["config"]) == (2, {"cleanup.policy": "compact"})
