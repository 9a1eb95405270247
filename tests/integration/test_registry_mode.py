"""The whole system with a schema registry: every role writes the Confluent wire format.

`switchboard run` (edge, worker, sink, deliver, simulators) against its own broker and the test
registry: webhooks become facts, nothing is dead-lettered, and every record on every catalogue
topic but the dead-letter topics (which keep original bytes) carries the Confluent header and a
schema id the registry knows — the tables' changelogs included.
"""
import json
import os
import struct
import subprocess
import sys
import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from deploy.kafka.broker import LocalKafka
from schemas import catalogue
from tests.kafka_fixture import CACHE_DIR, free_port

pytestmark = pytest.mark.kafka
RUN_SECONDS = "15"
CHANGELOGS = ("conversation-state", "identity-state", "routing-state")


def _every_record(bootstrap: str) -> dict[str, list[bytes]]:
    """The values of every catalogue topic, from the beginning to the end offsets of now."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex}",
                       "enable.auto.commit": False, "isolation.level": "read_committed"})
    ends = {}
    for t in catalogue().values():
        for p in range(t.partitions):
            ends[(t.name, p)] = reader.get_watermark_offsets(TopicPartition(t.name, p), timeout=10)[1]
    parts = [TopicPartition(name, p, 0) for (name, p), end in ends.items() if end > 0]
    reader.assign(parts)
    values: dict[str, list[bytes]] = {t: [] for t in catalogue()}
    deadline = time.monotonic() + 60
    try:  # positions, not record counts: transaction markers take offsets but are never delivered
        while any(max(tp.offset, 0) < ends[(tp.topic, tp.partition)] for tp in reader.position(parts)):
            assert time.monotonic() < deadline, "timed out reading the topics back"
            for message in reader.consume(1000, 1):
                if message.error() is None and message.value() is not None:   # tombstones frame nothing
                    values[message.topic()].append(message.value())
    finally:
        reader.close()
    return values


def test_make_run_with_a_registry_writes_confluent_framing_everywhere_and_loses_nothing(tmp_path, schema_registry_url):
    broker = LocalKafka(cache_dir=CACHE_DIR, data_dir=tmp_path / "kafka", port=free_port(), controller_port=free_port())
    bootstrap = broker.start()   # already running when `run` starts: `run` leaves it up for the checks
    env = os.environ | {"SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_RUN_SECONDS": RUN_SECONDS,
                        "SWITCHBOARD_KAFKA_PORT": str(broker.port),
                        "SWITCHBOARD_KAFKA_CONTROLLER_PORT": str(broker.controller_port),
                        "SWITCHBOARD_SCHEMA_REGISTRY_URL": schema_registry_url}
    try:
        done = subprocess.run([sys.executable, "-m", "switchboard.cli", "run"], env=env,
                              capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        values = _every_record(bootstrap)
    finally:
        broker.stop()
    assert summary["ok"] and summary["dead_letters"] == 0, summary
    assert all(summary["inbound"][ch] > 0 for ch in ("messenger", "whatsapp", "line", "x", "open")), summary
    assert summary["messages"] > 0 and summary["facts"] > 0, summary
    registry = SchemaRegistryClient({"url": schema_registry_url})
    for name, found in values.items():
        if catalogue()[name].is_dlq:
            assert not found, f"{name}: {len(found)} dead letters"
            continue
        assert all(v[:1] == b"\x00" for v in found), f"{name}: a record without the Confluent header"
        for schema_id in {struct.unpack(">I", v[1:5])[0] for v in found}:
            assert registry.get_schema(schema_id) is not None, f"{name}: unknown schema id {schema_id}"
    assert all(values[name] for name in CHANGELOGS), {name: len(values[name]) for name in CHANGELOGS}
