"""Pytest plugin: a real Kafka broker for the session, random topics and consumer groups.

Set SWITCHBOARD_TEST_KAFKA=<host:port> to use a running broker; otherwise a LocalKafka is
started on free ports in a temporary directory (jars cached in <repo>/.cache) and stopped at
the end. A broker that cannot start fails the tests: nothing here skips. `local_kafka` is that
LocalKafka, for a test that restarts the broker (tests/browser/test_faults_under_load.py).
"""
from __future__ import annotations

import gc
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploy.kafka.broker import LocalKafka
from deploy.kafka.topics import create_topics
from schemas.catalogue import Topic, catalogue
from switchboard.harness import free_ports

REPO = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO / ".cache"
ENV = "SWITCHBOARD_TEST_KAFKA"
BROKER = pytest.StashKey[LocalKafka]()   # the session's LocalKafka, when this plugin started one


def wait_until(predicate, timeout: float = 60, what: str = "the condition"):
    """Poll `predicate` until it is truthy (the broker is asynchronous); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[str]:
    """Bootstrap address of a broker that holds every catalogue topic."""
    if os.environ.get(ENV):
        create_topics(os.environ[ENV], catalogue().values())
        yield os.environ[ENV]
        return
    ports = free_ports(2)
    broker = LocalKafka(CACHE_DIR, tmp_path_factory.mktemp("kafka"),
                        port=ports[0], controller_port=ports[1])
    try:
        bootstrap = broker.start()
        pytestconfig.stash[BROKER] = broker
        create_topics(bootstrap, catalogue().values())
        _warm_up(bootstrap)
        yield bootstrap
    finally:
        # Destroy the clients tests left behind while the broker still answers: otherwise librdkafka
        # logs "Connection refused" from their threads after the run's closing summary line.
        gc.collect()
        broker.stop()


@pytest.fixture(scope="session")
def local_kafka(kafka_bootstrap: str, pytestconfig: pytest.Config) -> LocalKafka:
    """The session's broker process, for tests that stop and start it (same ports, same data dir)."""
    if BROKER not in pytestconfig.stash:
        pytest.fail(f"{ENV}={os.environ.get(ENV)} is a broker this session did not start: a test that "
                    f"restarts the broker needs the session's own (unset {ENV})")
    return pytestconfig.stash[BROKER]


def _warm_up(bootstrap: str, timeout: float = 60) -> None:
    """Let a fresh broker load its group and transaction coordinators (__consumer_offsets, PIDs)
    once, so the first test is not the one that waits for "Coordinator load in progress"."""
    from confluent_kafka import Consumer, Producer

    name = f"warmup-{uuid.uuid4().hex}"
    create_topics(bootstrap, [Topic(name=name, key="warm-up", value="raw", partitions=1)])
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(name, b"warm-up")
    assert producer.flush(timeout) == 0, "the fresh broker did not accept a record"
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": name, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    try:
        consumer.subscribe([name])
        message = consumer.poll(timeout)
        assert message is not None and message.error() is None, "the fresh broker served no record"
        consumer.commit(message, asynchronous=False)
    finally:
        consumer.close()


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """Factory: new_topic(partitions=1, config=None) creates a `test-<hex>` topic, returns its name."""
    def make(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"test-{uuid.uuid4().hex}"
        topic = Topic(name=name, key="test", value="test", partitions=partitions,
                      config=dict(config or {}))
        create_topics(kafka_bootstrap, [topic])
        return name
    return make


@pytest.fixture
def group_id() -> str:
    """A consumer group name no other test uses."""
    return f"test-group-{uuid.uuid4().hex}"
