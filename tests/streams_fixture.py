"""Pytest plugin: a `switchboard worker` subprocess against the session broker, and topic helpers.

Run with `-p tests.streams_fixture`. The worker and topic helpers are `switchboard.harness`'s
(benchmarks use them too): tests filter what they read by a tenant id of their own.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, DecodeError, topic
from switchboard.harness import Topics, Worker, WorkerProcess  # noqa: F401 (WorkerProcess: identity, routing tests)

ACCOUNTS = Path(__file__).resolve().parent / "fixtures" / "conversations" / "accounts.yaml"
CODEC = Codec()


class TenantReader:
    """Every record of some topics from the beginning, decoded, filtered by a tenant id."""

    def __init__(self, bootstrap: str, tenant: str, subjects: dict[str, str], **conf):
        """`subjects`: topic name -> the Avro subject of its values."""
        self.tenant, self.subjects, self.records = tenant, subjects, []
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest", **conf})
        self.consumer.assign([TopicPartition(name, p, 0) for name in subjects
                              for p in range(topic(name).partitions)])

    def wait_for(self, predicate, timeout: float = 60) -> list:
        """Poll until `predicate(records)`; records are (topic, key, value, headers)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; got {[self._describe(r) for r in self.records]}")
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
        if message.value() is None:   # a tombstone on a compacted topic (an erasure's, a forgotten entry)
            return
        try:
            value = CODEC.decode(message.value(), subject)
        except DecodeError:   # another test's deliberately bad record on a shared topic
            return
        if value.get("tenant_id") == self.tenant:
            self.records.append(self._record(message, subject, value))

    def _record(self, message, subject: str, value: dict):
        """What is kept of a matching record: (topic, key, value, headers) unless overridden."""
        return message.topic(), message.key().decode(), value, dict(message.headers() or [])

    def _describe(self, record) -> tuple:
        """A record in a timeout message."""
        return record[0], record[2].get("type")

    def close(self) -> None:
        """Close the consumer."""
        self.consumer.close()


@pytest.fixture(scope="module")
def streams_worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A running worker with the processors of streams/processors.py (1 s expiry scans)."""
    data_dir = tmp_path_factory.mktemp("worker")
    worker = Worker(kafka_bootstrap, data_dir, f"test-streams-{uuid.uuid4().hex[:8]}", ACCOUNTS)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()   # its log stays in data_dir/worker.log, for a failed test's autopsy


@pytest.fixture(scope="module")
def topics(kafka_bootstrap: str) -> Topics:
    """Produce to and read from catalogue topics."""
    return Topics(kafka_bootstrap, CODEC)
