"""Kafka clients configured the one way Switchboard uses them (confluent-kafka / librdkafka)."""
from __future__ import annotations

from confluent_kafka import Consumer, Producer

# acks=all + idempotence: a record acknowledged by the broker is durable and never duplicated by
# the producer's own retries. A short linger batches bursts without adding visible latency.
# murmur2_random: the Java client's (and faust's) partitioner, so a key written here lands in the
# same partition as when faust writes it — a tenant's routing state must live in one partition.
PRODUCER_DEFAULTS = {"enable.idempotence": True, "acks": "all", "linger.ms": 5,
                     "compression.type": "lz4", "message.timeout.ms": 30000,
                     "partitioner": "murmur2_random"}
# Offsets are committed by the application after it has processed (and produced) a record.
CONSUMER_DEFAULTS = {"enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "isolation.level": "read_committed"}


def producer(client_config: dict, **overrides) -> Producer:
    """An idempotent, acks=all producer."""
    return Producer({**PRODUCER_DEFAULTS, **client_config, **overrides})


def consumer(client_config: dict, group_id: str, **overrides) -> Consumer:
    """A consumer that commits only what the application says it has processed."""
    return Consumer({**CONSUMER_DEFAULTS, **client_config, "group.id": group_id, **overrides})
