"""Run the routing worker as a real process against the test broker, produce events, read outputs."""
from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from schemas import Codec, topic
from switchboard.kafka import producer
from tests.streams_fixture import TenantReader, WorkerProcess

from .drive import FIXTURES, action

REPO = Path(__file__).resolve().parents[3]
OUTPUTS = {topic(n).name: s for n, s in [("agent-notifications", "agent-event"), ("assignments", "assignment"),
                                         ("routing-decisions", "routing-decision"), ("segment-facts", "segment-fact"),
                                         ("agent-status-facts", "agent-status-interval")]}
codec = Codec()


class RoutingWorker(WorkerProcess):
    """`python -m streams.routing --no-clock` in a subprocess with its own group and routing dir."""

    ready_marker = "Worker ready"

    def __init__(self, bootstrap: str, workdir: Path, group: str | None = None, name: str = "w1"):
        self.group = group or f"routing-test-{uuid.uuid4().hex[:8]}"
        self.routing_dir = workdir / "routing"
        self.routing_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            [sys.executable, "-m", "streams.routing", "--no-clock", "--store", "memory://",
             "--group", self.group, "--name", name, "--log-level", os.environ.get("ROUTING_TEST_LOG_LEVEL", "info")],
            {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_ROUTING_DIR": str(self.routing_dir),
             "SWITCHBOARD_DATA_DIR": str(workdir / "data")}, group=self.group)

    def add_tenant(self, tenant: str) -> str:
        """Give `tenant` the fixture routing file."""
        (self.routing_dir / f"{tenant}.yaml").write_text((FIXTURES / "tenant.yaml").read_text())
        return tenant

    def autopsy(self, bootstrap: str, tenant: str, tail: int = 80) -> str:
        """For a failure message: committed vs end offsets of the inputs, dead letters, the log tail."""
        whole = self.routing_dir.parent / "worker.log"
        whole.write_text("\n".join(self.log))
        parts = [f"worker log (last {tail} lines; all of it in {whole}):", *self.log[-tail:]]
        for look in (lambda: input_offsets(bootstrap, self.group), lambda: dead_letters(bootstrap, tenant)):
            try:
                parts.append(look())
            except Exception as exc:  # noqa: BLE001 - the autopsy must not hide the failure
                parts.append(f"autopsy step failed: {exc!r}")
        return "\n".join(parts)


INPUTS = ("routing-requests", "agent-actions", "routing-ticks")


def input_offsets(bootstrap: str, group: str) -> str:
    """`topic[p] committed/end` for every partition of the routing inputs, as committed by `group`."""
    parts = [TopicPartition(topic(n).name, p) for n in INPUTS for p in range(topic(n).partitions)]
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:  # an OffsetFetch only: this consumer never joins the group
        lines = [f"{tp.topic}[{tp.partition}] committed {tp.offset} end {reader.get_watermark_offsets(tp, 10)[1]}"
                 for tp in reader.committed(parts, 10)]
    finally:
        reader.close()
    return f"group {group} offsets:\n" + "\n".join(lines)


def dead_letters(bootstrap: str, tenant: str) -> str:
    """The error headers of the inputs' dead letters keyed by `tenant`."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"autopsy-{uuid.uuid4().hex}"})
    parts = [TopicPartition(topic(f"{n}-dlq").name, p, 0) for n in INPUTS for p in range(topic(f"{n}-dlq").partitions)]
    reader.assign(parts)
    found, deadline = [], time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            message = reader.poll(0.2)
            if message is not None and not message.error() and message.key() == tenant.encode():
                found.append(f"{message.topic()}: {dict(message.headers() or []).get('error')}")
    finally:
        reader.close()
    return f"dead letters of {tenant}: {found}"


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


class Outputs(TenantReader):
    """Everything routing produced for one tenant, read from the start of the output topics."""

    def __init__(self, bootstrap: str, tenant: str):
        super().__init__(bootstrap, tenant, OUTPUTS)

    def _record(self, message, subject: str, value: dict) -> tuple[str, dict]:
        return subject, _plain(value)

    def _describe(self, record) -> tuple:
        subject, value = record
        return subject, value.get("type") or value.get("kind")

    def of(self, subject: str, kind: str) -> list[dict]:
        """Values of one subject and type/kind."""
        return [v for s, v in self.records if s == subject and kind in (v.get("type"), v.get("kind"), v.get("segment_type"))]


def on_queue(events: Events, outputs: Outputs, tenant: str, agents, at: int) -> None:
    """Put `agents` on queue and wait until routing applied it: its inputs are three topics, sequenced
    in the order they are read, so a request sent at once could overtake a presence."""
    for agent in agents:
        events.action(action(agent, "presence", at, tenant, presence="on_queue"))
    outputs.wait_for(lambda r: {v["agent_id"] for v in outputs.of("agent-event", "presence_changed")} >= set(agents))


def _plain(value: dict) -> dict:
    return {k: (int(v.timestamp() * 1000) if hasattr(v, "timestamp") else v) for k, v in value.items()}
