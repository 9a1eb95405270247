"""The identity matcher as a real `switchboard worker` process against the test broker."""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, topic
from switchboard.kafka import producer
from tests.streams_fixture import WorkerProcess

from .claims import key

REPO = Path(__file__).resolve().parents[3]
codec = Codec()


class IdentityWorker(WorkerProcess):
    """`switchboard worker --processors streams.identity.agent` with its own group and memory store."""

    def __init__(self, bootstrap: str, workdir: Path):
        self.name = f"identity-test-{uuid.uuid4().hex[:8]}"
        super().__init__(
            [sys.executable, "-m", "switchboard.cli", "worker", "--processors", "streams.identity.agent",
             "--app-id", self.name, "--name", self.name, "--store", "memory://"],
            {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_DATA_DIR": str(workdir / "data"),
             "SWITCHBOARD_LOG_LEVEL": "INFO"})


class Claims:
    """Produce identity claims keyed by their detail, as the conversation processor does."""

    def __init__(self, bootstrap: str):
        self.producer = producer({"bootstrap.servers": bootstrap}, partitioner="murmur2_random")

    def send(self, record: dict, record_key: str | None = None) -> None:
        """Produce one claim (and wait for the broker's ack)."""
        self.producer.produce(topic("identity-claims").name, key=(record_key or key(record)).encode(),
                              value=codec.encode("identity-claim", record))
        self.producer.flush(10)


class Reader:
    """Every record of some topics from the beginning, decoded, filtered by a tenant id."""

    def __init__(self, bootstrap: str, tenant: str, subjects: dict[str, str]):
        self.tenant, self.subjects, self.records = tenant, subjects, []
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                  "fetch.wait.max.ms": 50})
        self.consumer.assign([TopicPartition(name, p, 0) for name in subjects
                              for p in range(topic(name).partitions)])

    def wait_for(self, predicate, timeout: float = 20) -> list:
        """Poll until `predicate(records)`; records are (topic, key, value, headers)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; got {[(t, v.get('type')) for t, _, v, _ in self.records]}")
            message = self.consumer.poll(0.2)
            if message is None or message.error():
                continue
            self._keep(message)
        return self.records

    def drain(self, timeout: float = 10) -> list:
        """Read up to the end of every partition: all that was acked before the last record seen."""
        ends = {(tp.topic, tp.partition): self.consumer.get_watermark_offsets(tp, timeout=5)[1]
                for tp in self.consumer.assignment()}
        deadline = time.monotonic() + timeout
        while any(max(p.offset, 0) < ends[(p.topic, p.partition)]  # before a fetch: OFFSET_INVALID
                  for p in self.consumer.position(self.consumer.assignment())):
            assert time.monotonic() < deadline, "timed out draining"
            message = self.consumer.poll(0.2)
            if message is not None and not message.error():
                self._keep(message)
        return self.records

    def _keep(self, message) -> None:
        subject = self.subjects[message.topic()]
        value = codec.decode(message.value(), subject)
        if value.get("tenant_id") == self.tenant:
            self.records.append((message.topic(), message.key().decode(), value, dict(message.headers() or [])))

    def close(self) -> None:
        """Close the consumer."""
        self.consumer.close()
