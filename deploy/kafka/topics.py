"""Create and inspect the catalogue's topics on a broker (confluent-kafka's AdminClient)."""
from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic, ResourceType

from schemas.catalogue import Topic

REPLICATION = 1  # the local broker is a single node; a cluster asks for more (`topics create --replication-factor`)

# Every function takes the broker as a bootstrap address (the local PLAINTEXT broker, tests) or as the
# whole client config (Settings.kafka_client_config(): TLS and SASL included), like every other client.
Broker = str | dict


def _admin(broker: Broker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker} if isinstance(broker, str) else dict(broker))


def list_topics(broker: Broker, timeout: float = 10) -> list[str]:
    """Names of the broker's topics, sorted, without Kafka's internal `__` topics."""
    names = _admin(broker).list_topics(timeout=timeout).topics
    return sorted(name for name in names if not name.startswith("__"))


def create_topics(broker: Broker, topics: Iterable[Topic], timeout: float = 30, *,
                  replication_factor: int = REPLICATION, min_insync_replicas: int | None = None) -> list[str]:
    """Create the topics that do not exist yet, as declared (with `replication_factor` replicas and,
    if given, min.insync.replicas); return the names created. Existing topics are left as they are."""
    if min_insync_replicas is not None and not 1 <= min_insync_replicas <= replication_factor:
        raise ValueError(f"min.insync.replicas={min_insync_replicas} must be between 1 and the replication "
                         f"factor ({replication_factor})")
    admin = _admin(broker)
    existing = set(admin.list_topics(timeout=timeout).topics)
    durability = {} if min_insync_replicas is None else {"min.insync.replicas": str(min_insync_replicas)}
    wanted = [NewTopic(t.name, num_partitions=t.partitions, replication_factor=replication_factor,
                       config={**durability, **t.config}) for t in topics if t.name not in existing]
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


def describe_topic(broker: Broker, name: str, timeout: float = 10) -> dict:
    """Partitions, replication and the configs set on one topic (its overrides of broker defaults)."""
    admin = _admin(broker)
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
