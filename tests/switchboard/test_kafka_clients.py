"""switchboard/kafka.py's consuming helpers against the session's real broker."""
import time
import uuid

import pytest
from confluent_kafka import TopicPartition

from switchboard.kafka import consume_available, consumer, producer

pytestmark = pytest.mark.kafka


def _assigned(bootstrap: str, name: str):
    c = consumer({"bootstrap.servers": bootstrap}, f"test-{uuid.uuid4().hex}")
    c.assign([TopicPartition(name, 0, 0)])
    return c


def test_consume_available_returns_with_the_first_record_not_after_the_whole_timeout(kafka_bootstrap, new_topic):
    name = new_topic()
    out = producer({"bootstrap.servers": kafka_bootstrap})
    out.produce(name, b"one")
    assert out.flush(10) == 0
    c = _assigned(kafka_bootstrap, name)
    try:
        started = time.monotonic()
        got = [m for m in consume_available(c, 500, 30) if m.error() is None]
        # consume(500, 30) would hold the one record for the whole 30 s
        assert [m.value() for m in got] == [b"one"] and time.monotonic() - started < 15
    finally:
        c.close()


def test_consume_available_takes_what_was_fetched_up_to_its_limit_and_waits_only_when_there_is_none(
        kafka_bootstrap, new_topic):
    name = new_topic()
    out = producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(50):
        out.produce(name, str(n).encode())
    assert out.flush(10) == 0
    c = _assigned(kafka_bootstrap, name)
    try:
        seen: list[bytes] = []
        while len(seen) < 50:
            batch = consume_available(c, 20, 10)
            assert 0 < len(batch) <= 20
            seen += [m.value() for m in batch if m.error() is None]
        assert seen == [str(n).encode() for n in range(50)]
        assert consume_available(c, 20, 0.3) == []   # caught up: the timeout passes with nothing
    finally:
        c.close()
