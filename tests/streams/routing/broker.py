"""Run the routing worker as a real process against the test broker, produce events, read outputs."""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, topic
from switchboard.kafka import producer
from tests.streams_fixture import WorkerProcess

from .drive import FIXTURES

REPO = Path(__file__).resolve().parents[3]
OUTPUTS = {topic(n).name: s for n, s in [("agent-notifications", "agent-event"), ("assignments", "assignment"),
                                         ("routing-decisions", "routing-decision"), ("segment-facts", "segment-fact"),
                                         ("agent-status-facts", "agent-status-interval")]}
codec = Codec()


class RoutingWorker(WorkerProcess):
    """`python -m streams.routing --no-clock` in a subprocess with its own group and routing dir."""

    ready_marker = "Worker ready"

    def __init__(self, bootstrap: str, workdir: Path, group: str | None = None):
        self.group = group or f"routing-test-{uuid.uuid4().hex[:8]}"
        self.routing_dir = workdir / "routing"
        self.routing_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            [sys.executable, "-m", "streams.routing", "--no-clock", "--store", "memory://",
             "--group", self.group, "--name", "w1", "--log-level", "info"],
            {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_ROUTING_DIR": str(self.routing_dir),
             "SWITCHBOARD_DATA_DIR": str(workdir / "data")})

    def add_tenant(self, tenant: str) -> str:
        """Give `tenant` the fixture routing file."""
        (self.routing_dir / f"{tenant}.yaml").write_text((FIXTURES / "tenant.yaml").read_text())
        return tenant

class Events:
    """Produce routing inputs keyed by tenant, with the murmur2 partitioner faust and Java use."""

    def __init__(self, bootstrap: str):
        self.producer = producer({"bootstrap.servers": bootstrap}, partitioner="murmur2_random")

    def send(self, name: str, subject: str, record: dict) -> None:
        """Produce one record to a catalogue topic, keyed by its tenant."""
        self.producer.produce(topic(name).name, key=record["tenant_id"].encode(), value=codec.encode(subject, record))
        self.producer.flush(10)

    def request(self, record: dict) -> None:
        """A routing request."""
        self.send("routing-requests", "routing-request", record)

    def action(self, record: dict) -> None:
        """An agent action."""
        self.send("agent-actions", "agent-action", record)

    def tick(self, tenant: str, at: int) -> None:
        """Move the tenant's routing clock to `at`."""
        self.send("routing-ticks", "routing-tick", {"tenant_id": tenant, "tick_at": at})


class Outputs:
    """Everything routing produced for one tenant, read from the start of the output topics."""

    def __init__(self, bootstrap: str, tenant: str):
        self.tenant, self.records = tenant, []
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"out-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        parts = [TopicPartition(name, p, 0) for name in OUTPUTS for p in range(topic(name).partitions)]
        self.consumer.assign(parts)

    def wait_for(self, predicate, timeout: float = 20) -> list[tuple[str, dict]]:
        """Poll until `predicate(records)` is true; the (subject, value) records so far."""
        deadline = time.monotonic() + timeout
        while not predicate(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; got {[(s, v.get('type') or v.get('kind')) for s, v in self.records]}")
            message = self.consumer.poll(0.2)
            if message is None or message.error():
                continue
            subject = OUTPUTS[message.topic()]
            value = codec.decode(message.value(), subject)
            if value["tenant_id"] == self.tenant:
                self.records.append((subject, _plain(value)))
        return self.records

    def of(self, subject: str, kind: str) -> list[dict]:
        """Values of one subject and type/kind."""
        return [v for s, v in self.records if s == subject and kind in (v.get("type"), v.get("kind"), v.get("segment_type"))]

    def close(self) -> None:
        """Close the consumer."""
        self.consumer.close()


def _plain(value: dict) -> dict:
    return {k: (int(v.timestamp() * 1000) if hasattr(v, "timestamp") else v) for k, v in value.items()}
