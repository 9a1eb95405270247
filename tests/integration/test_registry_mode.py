"""The whole system with a schema registry: every role writes the Confluent wire format.

`switchboard run` (edge, worker, sink, deliver, simulators) with its own broker and the test
registry: it stops by itself, prints its summary last and leaves no process behind; webhooks
became facts, nothing was dead-lettered, and every record on every catalogue topic but the
dead-letter topics (which keep original bytes) carries the Confluent header and a schema id the
registry knows — the tables' changelogs included. And no secret of the run is found in anything it
wrote: its output, its data directory, its topics (tests/integration/secret_scan.py).
"""
import json
import os
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from deploy.kafka.broker import LocalKafka
from schemas import catalogue
from tests.integration.secret_scan import data_files, leaks, run_secrets
from tests.kafka_fixture import CACHE_DIR, free_port

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]
RUN_SECONDS = "40"  # a fresh broker: the worker may need ~10 s to join its group, and a web visitor's first
# message (pre-chat email) waits for identity's answer before it is routed
CHANGELOGS = ("conversation-state", "identity-state", "routing-state")
# The expiry index's changelog holds plain bytes (a thread key, a due time in ms), no record of a schema.
UNFRAMED = {"conversation-due-index"}


def _end(reader: Consumer, tp: TopicPartition, timeout: float = 30) -> int:
    """The partition's end offset, once the restarted broker leads it again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return reader.get_watermark_offsets(tp, timeout=10)[1]
        except KafkaException:   # NOT_LEADER_FOR_PARTITION while the broker loads its logs
            assert time.monotonic() < deadline, f"{tp.topic}[{tp.partition}] has no leader"
            time.sleep(0.2)


def _every_record(bootstrap: str) -> dict[str, list[bytes]]:
    """The values of every catalogue topic, from the beginning to the end offsets of now."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex}",
                       "enable.auto.commit": False, "isolation.level": "read_committed"})
    values: dict[str, list[bytes]] = {t: [] for t in catalogue()}
    try:  # positions, not record counts: transaction markers take offsets but are never delivered
        ends = {(t.name, p): _end(reader, TopicPartition(t.name, p)) for t in catalogue().values()
                for p in range(t.partitions)}
        parts = [TopicPartition(name, p, 0) for (name, p), end in ends.items() if end > 0]
        reader.assign(parts)
        deadline = time.monotonic() + 60
        while any(max(tp.offset, 0) < ends[(tp.topic, tp.partition)] for tp in reader.position(parts)):
            assert time.monotonic() < deadline, "timed out reading the topics back"
            for message in reader.consume(1000, 1):
                if message.error() is None and message.value() is not None:   # tombstones frame nothing
                    values[message.topic()].append(message.value())
    finally:
        reader.close()
    return values


def test_make_run_with_a_registry_writes_confluent_framing_everywhere_and_loses_nothing(tmp_path, schema_registry_url):
    ports = {"SWITCHBOARD_KAFKA_PORT": str(free_port()), "SWITCHBOARD_KAFKA_CONTROLLER_PORT": str(free_port())}
    env = os.environ | ports | {"SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_RUN_SECONDS": RUN_SECONDS,
                                "SWITCHBOARD_SCHEMA_REGISTRY_URL": schema_registry_url}
    done = subprocess.run([sys.executable, "-m", "switchboard.cli", "run"], env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])   # the summary is the last line
    assert summary["ok"] is True and summary["stopped"] == "run time elapsed", summary
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftover.stdout == "", "every process make run started, its broker included, must be stopped"
    assert summary["dead_letters"] == 0, summary
    assert all(summary["inbound"][ch] > 0 for ch in ("web", "messenger", "whatsapp", "line", "x", "open")), summary
    assert summary["delivered"]["web"] > 0, summary   # simulated visitors got agents' replies on the guest socket
    assert summary["messages"] > 0 and summary["facts"] > 0, summary
    # what the run's delivered WhatsApp messages cost, per currency (free replies cost 0)
    assert all(cost >= 0 for cost in summary["template_cost"].values()), summary
    assert all(summary["events"].get(name, 0) > 0 for name in ("conversation-inputs", "conversation-events",
                                                             "routing-inputs", "identity-events")), summary["events"]

    broker = LocalKafka(cache_dir=CACHE_DIR, data_dir=tmp_path / "kafka", port=int(ports["SWITCHBOARD_KAFKA_PORT"]),
                        controller_port=int(ports["SWITCHBOARD_KAFKA_CONTROLLER_PORT"]))
    try:   # the run's broker again, on its data dir, to read back what every role wrote
        values = _every_record(broker.start())
    finally:
        broker.stop()
    registry = SchemaRegistryClient({"url": schema_registry_url})
    for name, found in values.items():
        if catalogue()[name].is_dlq:
            assert not found, f"{name}: {len(found)} dead letters"
            continue
        if name in UNFRAMED:
            continue
        assert all(v[:1] == b"\x00" for v in found), f"{name}: a record without the Confluent header"
        for schema_id in {struct.unpack(">I", v[1:5])[0] for v in found}:
            assert registry.get_schema(schema_id) is not None, f"{name}: unknown schema id {schema_id}"
    assert all(values[name] for name in CHANGELOGS), {name: len(values[name]) for name in CHANGELOGS}
    wrote = [("the output", (done.stdout + done.stderr).encode())] + [
        (f"topic {name}", b"\n".join(found)) for name, found in values.items()]
    secrets = run_secrets(tmp_path, REPO / "deploy" / "accounts.yaml")
    assert leaks(secrets, [*wrote, *data_files(tmp_path)]) == []
