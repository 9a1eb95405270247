"""The sink against the real broker and the embedded engine: facts land, replays change no
count, bad records go to the dead-letter topic while the rest land."""
from __future__ import annotations

import time

import pytest

from schemas import Codec, topic
from sink.consumer import Sink
from sink.reports import FACT_TABLES
from sink.rows import rows_of
from switchboard.kafka import consumer, producer

from .scenario import encoded, load

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
SCENARIO_TOPICS = {"inbound-messages", "conversation-events", "outbound-approved", "identity-events"}


def publish(bootstrap: str, records: list[tuple]) -> None:
    """Produce (topic, key, value[, headers]) records and wait for the broker."""
    out = producer({"bootstrap.servers": bootstrap})
    for name, key, value, *headers in records:
        out.produce(name, key=key, value=value, headers=headers[0] if headers else None)
    assert out.flush(10) == 0


def make_sink(store, bootstrap: str, group: str, topics: set[str], **options) -> Sink:
    source = consumer({"bootstrap.servers": bootstrap}, group)
    source.subscribe(sorted(topics))
    return Sink(store, source, producer({"bootstrap.servers": bootstrap}),
                {name: topic(name).value for name in topics}, Codec(), batch_seconds=0.2, **options)


def drain(sink: Sink, timeout: float = 30) -> None:
    """Step until the sink's committed position reaches every partition's current end."""
    from confluent_kafka import TopicPartition

    ends = {}
    for name in sink.topics:
        for p in range(topic(name).partitions):
            ends[(name, p)] = sink.consumer.get_watermark_offsets(TopicPartition(name, p), timeout=5)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sink.step()
        committed = sink.consumer.committed([TopicPartition(n, p) for n, p in ends], timeout=5)
        if all(tp.offset >= ends[(tp.topic, tp.partition)] or ends[(tp.topic, tp.partition)] == 0
               for tp in committed):
            return
    raise AssertionError(f"the sink did not reach the end of {sorted(sink.topics)} in {timeout}s")


def tenant_counts(store, tenant: str) -> dict[str, int]:
    union = " UNION ALL ".join(f"SELECT '{t}' AS t, count() AS n FROM {t} FINAL WHERE tenant_id = {{tenant:String}}"
                               for t in FACT_TABLES)
    return {t: n for t, n in store.query(union, {"tenant": tenant}).result_rows}


def dead_letters(bootstrap: str, source: str, key_prefix: str, group: str, want: int) -> list:
    reader = consumer({"bootstrap.servers": bootstrap}, group)
    reader.subscribe([topic(source).dlq])
    found, deadline = [], time.monotonic() + 20
    while len(found) < want and time.monotonic() < deadline:
        for m in reader.consume(100, 0.5):
            if not m.error() and (m.key() or b"").decode().startswith(key_prefix):
                found.append(m)
    reader.close()
    return found


def test_facts_land_and_a_replay_from_offset_zero_changes_no_count(kafka_bootstrap, clickhouse_store, tenant, group_id):
    scenario = load("history_scenario.json", tenant)
    publish(kafka_bootstrap, encoded(scenario["events"]))
    first = make_sink(clickhouse_store, kafka_bootstrap, group_id, SCENARIO_TOPICS)
    drain(first)
    counts = tenant_counts(clickhouse_store, tenant)
    assert (counts["message_facts"], counts["conversation_facts"], counts["identity_facts"]) == (6, 2, 4)

    replay = make_sink(clickhouse_store, kafka_bootstrap, group_id + "-replay", SCENARIO_TOPICS)
    drain(replay)  # a new group starts at offset 0 and re-inserts every row
    assert replay.stats.rows >= first.stats.rows
    assert tenant_counts(clickhouse_store, tenant) == counts
    first.consumer.close(), replay.consumer.close()


def test_undecodable_bytes_go_to_the_dead_letter_topic_and_the_rest_land(kafka_bootstrap, clickhouse_store, tenant, group_id):
    good = [e for e in load("history_scenario.json", tenant)["events"] if e["topic"] == "inbound-messages"]
    original = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    poison = ("inbound-messages", f"{tenant}:poison", b"\xc3\x01not avro at all", original)
    publish(kafka_bootstrap, [poison, *encoded(good)])
    sink = make_sink(clickhouse_store, kafka_bootstrap, group_id, {"inbound-messages"})
    drain(sink)
    sink.consumer.close()
    assert tenant_counts(clickhouse_store, tenant)["message_facts"] == len(good)
    [letter] = dead_letters(kafka_bootstrap, "inbound-messages", f"{tenant}:poison", group_id + "-dlq", 1)
    headers = {k: v.decode() for k, v in letter.headers()}
    assert letter.value() == poison[2] and letter.headers()[:1] == original
    assert (headers["source.topic"], headers["stage"]) == ("inbound-messages", "sink.decode")
    assert {"source.partition", "source.offset", "error", "time"} <= set(headers)


def test_rows_clickhouse_refuses_are_dead_lettered_one_record_at_a_time(kafka_bootstrap, clickhouse_store, tenant, group_id):
    good = [e for e in load("history_scenario.json", tenant)["events"] if e["topic"] == "inbound-messages"]
    bad = {**good[0]["record"], "event_id": "in-bad", "thread_key": f"{tenant}:web:bad:row", "text": "POISON ROW"}
    publish(kafka_bootstrap, encoded([*good, {"topic": "inbound-messages", "record": bad}]))

    def poisoned_rows(subject: str, record: dict):
        rows = rows_of(subject, record)
        if record.get("text") == "POISON ROW":  # a value ClickHouse cannot parse as DateTime64
            rows[0][1]["occurred_at"] = "not a date"
        return rows

    sink = make_sink(clickhouse_store, kafka_bootstrap, group_id, {"inbound-messages"}, to_rows=poisoned_rows)
    drain(sink)
    sink.consumer.close()
    assert tenant_counts(clickhouse_store, tenant)["message_facts"] == len(good)
    [letter] = dead_letters(kafka_bootstrap, "inbound-messages", f"{tenant}:web:bad", group_id + "-dlq", 1)
    headers = {k: v.decode() for k, v in letter.headers()}
    assert headers["stage"] == "sink.insert" and "Code: " in headers["error"]
    assert Codec().decode(letter.value(), "inbound-message")["event_id"] == "in-bad"


def poison_at(bootstrap: str, tenant: str):
    """Produce one undecodable record; where it landed."""
    from confluent_kafka import TopicPartition

    landed = []
    out = producer({"bootstrap.servers": bootstrap})
    out.produce("inbound-messages", key=f"{tenant}:poison", value=b"\xc3\x01not avro at all",
                on_delivery=lambda err, msg: landed.append(TopicPartition(msg.topic(), msg.partition(), msg.offset())))
    assert out.flush(10) == 0 and landed
    return landed[0]


def step_until_read(sink: Sink, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while sink.step() == 0:
        assert time.monotonic() < deadline, f"nothing read in {timeout} s"


@pytest.mark.parametrize("acknowledged", [True, False], ids=["acknowledged", "broker-down"])
def test_a_batch_is_committed_only_after_its_dead_letters_are_acknowledged(kafka_bootstrap, clickhouse_store, tenant,
                                                                           group_id, acknowledged):
    from confluent_kafka import OFFSET_INVALID, TopicPartition

    poison = poison_at(kafka_bootstrap, tenant)
    source = consumer({"bootstrap.servers": kafka_bootstrap}, group_id)
    source.assign([poison])  # this record alone: batch_size 1
    down = {"bootstrap.servers": "127.0.0.1:9", "message.timeout.ms": 1000}
    dlq = producer({"bootstrap.servers": kafka_bootstrap} if acknowledged else down)
    sink = Sink(clickhouse_store, source, dlq, {"inbound-messages": "inbound-message"}, Codec(), batch_size=1)
    try:
        if acknowledged:
            step_until_read(sink)
        else:
            with pytest.raises(RuntimeError, match="did not acknowledge"):
                step_until_read(sink)
        [committed] = source.committed([TopicPartition(poison.topic, poison.partition)], timeout=5)
        expected = (poison.offset + 1, 1) if acknowledged else (OFFSET_INVALID, 0)  # nothing committed
        assert (committed.offset, sink.stats.dead_letters) == expected
    finally:
        source.close()


class CoordinatorMoves:
    """The sink's consumer while the broker restarts: its next commits fail with `code`."""

    def __init__(self, consumer, code: int, times: int = 1):
        self.consumer, self.code, self.times = consumer, code, times

    def commit(self, **kwargs):
        from confluent_kafka import KafkaError, KafkaException

        if self.times:
            self.times -= 1
            raise KafkaException(KafkaError(self.code))
        return self.consumer.commit(**kwargs)

    def __getattr__(self, name):
        return getattr(self.consumer, name)


def test_a_commit_refused_by_a_moving_coordinator_waits_for_the_next_batch_and_any_other_error_stops(
        kafka_bootstrap, clickhouse_store, tenant, group_id):
    from confluent_kafka import KafkaError, KafkaException

    scenario = load("history_scenario.json", tenant)
    publish(kafka_bootstrap, encoded(scenario["events"]))
    sink = make_sink(clickhouse_store, kafka_bootstrap, group_id, SCENARIO_TOPICS, batch_size=1)
    real = sink.consumer
    sink.consumer = CoordinatorMoves(real, KafkaError.NOT_COORDINATOR)
    step_until_read(sink)                      # written; its commit deferred, not fatal
    step_until_read(sink)                      # the next batch's commit covers both
    positions = real.position(real.assignment())
    committed = real.committed(real.assignment(), timeout=5)
    assert {(c.topic, c.partition, c.offset) for c in committed if c.offset >= 0} == \
        {(p.topic, p.partition, p.offset) for p in positions if p.offset >= 0}
    sink.consumer = CoordinatorMoves(real, KafkaError.GROUP_AUTHORIZATION_FAILED)
    with pytest.raises(KafkaException):        # not a broker restart: the sink stops uncommitted
        step_until_read(sink)
    real.close()
