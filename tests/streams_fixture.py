"""Pytest plugin: a `switchboard worker` subprocess against the session broker, and topic helpers.

Run with `-p tests.streams_fixture`. Each worker gets its own app id (consumer group), data dir and
static member name, so it shares nothing with other tests' workers but the catalogue topics:
tests filter what they read by a tenant id of their own.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, DecodeError, topic
from switchboard.kafka import consumer, producer

REPO = Path(__file__).resolve().parents[1]
ACCOUNTS = REPO / "tests" / "fixtures" / "conversations" / "accounts.yaml"
READY = "streams worker ready"
CODEC = Codec()


class WorkerProcess:
    """A stream worker child process: `start()` waits for its ready line, `kill()` is kill -9."""

    ready_marker = READY

    def __init__(self, args: list[str], env: dict[str, str]):
        self.args, self.env = args, {**os.environ, **env}
        self.log: list[str] = []
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0):
        """Start and wait for the ready line (partitions assigned, tables recovered); returns self."""
        self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        threading.Thread(target=self._read, args=(self.proc, ready), daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise AssertionError("worker not ready:\n" + "\n".join(self.log[-40:]))
        return self

    def _read(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        for line in proc.stderr:
            self.log.append(line.rstrip())
            if self.ready_marker in line:
                ready.set()

    def kill(self) -> None:
        """kill -9: no flush, no commit."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(WorkerProcess):
    """`switchboard worker` with every processor of streams/processors.py and 1 s expiry scans."""

    def __init__(self, bootstrap: str, data_dir: Path, app_id: str):
        super().__init__(
            [sys.executable, "-m", "switchboard.cli", "worker", "--name", app_id, "--app-id", app_id,
             "--expiry-interval", "1"],
            {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_DATA_DIR": str(data_dir),
             "SWITCHBOARD_ACCOUNTS_FILE": str(ACCOUNTS), "SWITCHBOARD_LOG_LEVEL": "INFO"})


class TenantReader:
    """Every record of some topics from the beginning, decoded, filtered by a tenant id."""

    def __init__(self, bootstrap: str, tenant: str, subjects: dict[str, str], **conf):
        """`subjects`: topic name -> the Avro subject of its values."""
        self.tenant, self.subjects, self.records = tenant, subjects, []
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest", **conf})
        self.consumer.assign([TopicPartition(name, p, 0) for name in subjects
                              for p in range(topic(name).partitions)])

    def wait_for(self, predicate, timeout: float = 20) -> list:
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
        value = CODEC.decode(message.value(), subject)
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
    worker = Worker(kafka_bootstrap, data_dir, f"test-streams-{uuid.uuid4().hex[:8]}")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        (data_dir / "worker.log").write_text("\n".join(worker.log))   # for a failed test's autopsy


class Topics:
    """Produce Avro events to catalogue topics and read back the ones of one tenant."""

    def __init__(self, bootstrap: str):
        self.conf = {"bootstrap.servers": bootstrap}
        self.codec = Codec()
        self.producer = producer(self.conf)

    def produce(self, name: str, records: list[dict], *, raw: bytes | None = None, key: str | None = None) -> None:
        """Encode and produce records (keyed by thread key), or one raw value; wait for the acks."""
        t = topic(name)
        for record in records:
            self.producer.produce(t.name, key=record["thread_key"], value=self.codec.encode(t.value, record))
        if raw is not None:
            self.producer.produce(t.name, key=key, value=raw)
        assert self.producer.flush(10) == 0

    def collect(self, name: str, tenant: str, done: Callable[[list[dict]], bool], timeout: float = 20.0) -> list[dict]:
        """Values of `name` whose tenant_id is `tenant`, read until `done(values)` or the timeout."""
        t = topic(name)
        reader = consumer(self.conf, f"test-reader-{uuid.uuid4().hex}")
        reader.subscribe([t.name])
        values, deadline = [], time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not done(values):
                for msg in reader.consume(500, 0.2):
                    if msg.error() is not None or not msg.value():
                        continue
                    if t.is_dlq:
                        values.append({"key": msg.key(), "value": msg.value(), "headers": dict(msg.headers() or [])})
                        continue
                    try:
                        value = self.codec.decode(msg.value(), t.value)
                    except DecodeError:  # another test's deliberately bad record on a shared topic
                        continue
                    if value.get("tenant_id") == tenant:
                        values.append(value)
        finally:
            reader.close()
        return values


@pytest.fixture(scope="module")
def topics(kafka_bootstrap: str) -> Topics:
    """Produce to and read from catalogue topics."""
    return Topics(kafka_bootstrap)
