"""Every subject's examples go through the real broker and come back as sent."""
import json
from pathlib import Path

import pytest

from schemas import Codec
from schemas.registry import AVRO_DIR
from switchboard.kafka import consumer, producer
from schemas import plain
from tests.avro_helpers import assert_contains

EXAMPLES = sorted((Path(AVRO_DIR).parent / "examples").glob("*/*.json"))

pytestmark = pytest.mark.kafka


def test_every_subject_round_trips_through_the_broker(kafka_bootstrap, new_topic, group_id):
    name, codec = new_topic(partitions=3), Codec()
    sent = [(p.parent.name, json.loads(p.read_text())) for p in EXAMPLES]
    out = producer({"bootstrap.servers": kafka_bootstrap})
    for i, (subject, record) in enumerate(sent):
        out.produce(name, key=f"key-{i}", value=codec.encode(subject, record),
                    headers={"subject": subject, "index": str(i)})
    assert out.flush(10) == 0

    received = {}
    source = consumer({"bootstrap.servers": kafka_bootstrap}, group_id)
    source.subscribe([name])
    try:
        while len(received) < len(sent):
            message = source.poll(10)
            assert message is not None, f"only {len(received)} of {len(sent)} records came back"
            assert message.error() is None, message.error()
            headers = dict(message.headers())
            received[int(headers["index"])] = (headers["subject"].decode(), message.key().decode(),
                                               plain(codec.decode(message.value(), headers["subject"].decode())))
    finally:
        source.close()

    assert {s for s, _ in sent} == {p.parent.name for p in EXAMPLES}
    for i, (subject, record) in enumerate(sent):
        got_subject, key, decoded = received[i]
        assert (got_subject, key) == (subject, f"key-{i}")
        assert_contains(decoded, record)
