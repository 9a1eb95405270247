"""The delivery ledger against a real broker: restart from stored offsets, expiry, instances side by side."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from confluent_kafka.admin import AdminClient, NewTopic

from connectors.ledger import Ledger
from schemas import Codec
from switchboard.kafka import producer as make_producer
from tests.kafka_fixture import wait_until

pytestmark = pytest.mark.kafka
CODEC = Codec()
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "schemas/examples/delivery-attempt/sent.json").read_text())
DAY_S = 24 * 3600.0
T0 = EXAMPLE["updated_at"] / 1000
STATES = ("sent", "failed", "sending")


class Clock:
    """A clock the test moves (seconds, like time.time)."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def attempt(outbound_id: str, state: str, at_s: float) -> dict:
    """A ledger entry like delivery writes, from the schema's example."""
    return EXAMPLE | {"outbound_id": outbound_id, "state": state, "updated_at": int(at_s * 1000)}


def write(bootstrap: str, topic: str, entries) -> int:
    """Produce ledger entries (a None value is a tombstone); returns how many."""
    producer, count = make_producer({"bootstrap.servers": bootstrap}, **{"linger.ms": 50}), 0
    for outbound_id, entry in entries:
        value = None if entry is None else CODEC.encode("delivery-attempt", entry)
        producer.produce(topic, key=outbound_id, value=value)
        count += 1
        if count % 10000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    return count


@pytest.fixture
def ledger_topic(new_topic):
    return new_topic(partitions=6, config={"cleanup.policy": "compact,delete"})


def test_a_restart_reads_only_the_tail_and_expiry_keeps_the_young(kafka_bootstrap, ledger_topic, tmp_path):
    config, clock, path = {"bootstrap.servers": kafka_bootstrap}, Clock(T0), tmp_path / "ledger"
    # 50,000 ids: the first half last written 6 days before T0, the second half at T0.
    expected = {f"out-{n:05d}": STATES[n % 3] for n in range(50000)}
    born = {oid: T0 - 6 * DAY_S if n < 25000 else T0 for n, oid in enumerate(expected)}
    write(kafka_bootstrap, ledger_topic, ((o, attempt(o, s, born[o])) for o, s in expected.items()))
    first = Ledger(config, CODEC, path, clock=clock, topic_name=ledger_topic)
    assert first.catch_up() == 50000
    first.close()

    # While deliver is down: 200 old `sending` become `sent` now, 100 new ids, 2 erased.
    tail = [(f"out-{n:05d}", attempt(f"out-{n:05d}", "sent", T0 + 60)) for n in range(0, 600, 3)]
    tail += [(f"new-{n}", attempt(f"new-{n}", "sending", T0 + 60)) for n in range(100)]
    tail += [("out-49998", None), ("out-49999", None)]
    write(kafka_bootstrap, ledger_topic, tail)
    for oid, entry in tail:
        expected[oid], born[oid] = (entry["state"], T0 + 60) if entry else (None, T0)

    again = Ledger(config, CODEC, path, clock=clock, topic_name=ledger_topic)
    assert again.catch_up() == len(tail) == 302     # not 50,302: the stored offsets were its start
    assert {oid: again.state(oid) for oid in expected} == expected

    clock.now = T0 + 1.5 * DAY_S   # the first half is now 7.5 days old, the renewed ones 1.5
    expired = {oid for oid in expected if born[oid] < T0 and expected[oid] is not None}
    assert again.expire() == len(expired) == 25000 - 200
    assert all(again.state(oid) is None for oid in expired)
    assert all(again.state(oid) == s for oid, s in expected.items() if oid not in expired)
    again.close()


def test_a_new_instance_reading_the_topic_skips_what_has_expired(kafka_bootstrap, ledger_topic):
    old, young = attempt("out-old", "sent", T0 - 8 * DAY_S), attempt("out-young", "sending", T0)
    write(kafka_bootstrap, ledger_topic, [("out-old", old), ("out-young", young)])
    fresh = Ledger({"bootstrap.servers": kafka_bootstrap}, CODEC, clock=Clock(T0), topic_name=ledger_topic)
    assert fresh.catch_up() == 2
    assert (fresh.state("out-old"), fresh.state("out-young")) == (None, "sending")
    fresh.close()


def test_two_instances_see_each_others_entries(kafka_bootstrap, ledger_topic, tmp_path):
    config, clock = {"bootstrap.servers": kafka_bootstrap}, Clock(T0)
    a = Ledger(config, CODEC, tmp_path / "a", clock=clock, topic_name=ledger_topic)
    b = Ledger(config, CODEC, tmp_path / "b", clock=clock, topic_name=ledger_topic)
    assert (a.catch_up(), b.catch_up()) == (0, 0)
    sending = attempt("out-1", "sending", T0)
    write(kafka_bootstrap, ledger_topic, [("out-1", sending)])   # what a's delivery publishes, then remembers
    a.remember(sending)
    assert b.catch_up() == 1 and b.state("out-1") == "sending"
    write(kafka_bootstrap, ledger_topic, [("out-1", attempt("out-1", "sent", T0 + 1))])
    assert b.catch_up() == 1 and b.state("out-1") == "sent"
    assert a.catch_up() == 2 and a.state("out-1") == "sent"   # its own records, read back in order
    a.close()
    b.close()


def test_a_topic_created_again_is_read_from_its_start(kafka_bootstrap, new_topic, tmp_path):
    config, name, path = {"bootstrap.servers": kafka_bootstrap}, new_topic(), tmp_path / "ledger"
    write(kafka_bootstrap, name, [(f"old-{n}", attempt(f"old-{n}", "sent", T0)) for n in range(3)])
    first = Ledger(config, CODEC, path, clock=Clock(T0), topic_name=name)
    assert first.catch_up() == 3
    first.close()
    admin = AdminClient(config)
    admin.delete_topics([name])[name].result(10)
    wait_until(lambda: _created(admin, name), what=f"{name} created again")
    write(kafka_bootstrap, name, [(f"new-{n}", attempt(f"new-{n}", "sending", T0)) for n in range(5)])
    again = Ledger(config, CODEC, path, clock=Clock(T0), topic_name=name)
    assert again.catch_up() == 5   # from 0, not from the old incarnation's offset 3
    assert again.state("new-0") == "sending" and again.state("old-0") == "sent"   # what it knew is kept
    again.close()


def _created(admin: AdminClient, name: str) -> bool:
    try:
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(10)
        return True
    except Exception:  # still being deleted
        return False
