"""The identity matcher as a real `switchboard worker` process against the test broker."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

from schemas import Codec, topic
from switchboard.kafka import producer
from tests.streams_fixture import TenantReader, WorkerProcess

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
             "SWITCHBOARD_LOG_LEVEL": "INFO"}, group=self.name)


class Claims:
    """Produce identity claims keyed by their detail, as the conversation processor does."""

    def __init__(self, bootstrap: str):
        self.producer = producer({"bootstrap.servers": bootstrap}, partitioner="murmur2_random")

    def send(self, record: dict, record_key: str | None = None) -> None:
        """Produce one claim (and wait for the broker's ack)."""
        self.producer.produce(topic("identity-claims").name, key=(record_key or key(record)).encode(),
                              value=codec.encode("identity-claim", record))
        self.producer.flush(10)


class Reader(TenantReader):
    """Identity events and dead letters of one tenant, read from the beginning."""

    def __init__(self, bootstrap: str, tenant: str, subjects: dict[str, str]):
        super().__init__(bootstrap, tenant, subjects, **{"fetch.wait.max.ms": 50})
