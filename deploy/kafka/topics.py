"""Create and inspect the catalogue's topics on a broker (confluent-kafka's AdminClient)."""
from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic, ResourceType

from schemas.catalogue import Topic

REPLICATION = 1  # the local broker is a single node; clusters create topics with their own tooling


def _admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def list_topics(bootstrap: str, timeout: float = 10) -> list[str]:
    """Names of the broker's topics, sorted, without Kafka's internal `__` topics."""
    names = _admin(bootstrap).list_topics(timeout=timeout).topics
    return sorted(name for name in names if not name.startswith("__"))


def create_topics(bootstrap: str, topics: Iterable[Topic], timeout: float = 30) -> list[str]:
    """Create the topics that do not exist yet, as declared; return the names created."""
    admin = _admin(bootstrap)
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [NewTopic(t.name, num_partitions=t.partitions, replication_factor=REPLICATION,
                       config=dict(t.config)) for t in topics if t.name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(wanted, operation_timeout=timeout, request_timeout=timeout)
    created = [name for name, future in futures.items() if _created(future)]
    _await_leaders(admin, {t.topic: t.num_partitions for t in wanted}, timeout)
    return created


def _created(future) -> bool:
    """True if the topic was created; False if someone else created it first."""
    try:
        future.result()
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise
    return True


def _await_leaders(admin: AdminClient, partitions: dict[str, int], timeout: float) -> None:
    """Wait until every partition has a leader, so a producer right after us finds the topic."""
    deadline = time.monotonic() + timeout
    while True:
        meta = admin.list_topics(timeout=timeout).topics
        if all(_ready(meta.get(name), count) for name, count in partitions.items()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics without leaders after {timeout} s: {sorted(partitions)}")
        time.sleep(0.1)


def _ready(meta, count: int) -> bool:
    return (meta is not None and meta.error is None and len(meta.partitions) == count
            and all(p.leader >= 0 for p in meta.partitions.values()))


def describe_topic(bootstrap: str, name: str, timeout: float = 10) -> dict:
    """Partitions, replication and the configs set on one topic (its overrides of broker defaults)."""
    admin = _admin(bootstrap)
    # Configs before metadata: the other order leaves an event that librdkafka logs at exit.
    resource = ConfigResource(ResourceType.TOPIC, name)
    entries = admin.describe_configs([resource])[resource].result(timeout=timeout)
    meta = admin.list_topics(topic=name, timeout=timeout).topics[name]
    if meta.error is not None:
        raise KafkaException(meta.error)
    first = next(iter(meta.partitions.values()))
    return {
        "name": name,
        "partitions": len(meta.partitions),
        "replication_factor": len(first.replicas),
        # Only the topic's own overrides: KRaft also reports cluster-wide dynamic defaults
        # (min.insync.replicas) as non-default. `source` arrives as a plain int.
        "config": {key: e.value for key, e in sorted(entries.items())
                   if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value},
    }
