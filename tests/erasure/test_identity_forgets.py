"""A running identity matcher forgets an erased customer's detail: the erasure's `erase` claim deletes
the entry from its table (the changelog gets the tombstone), so the same detail claimed later by
someone else starts afresh instead of merging with the erased customer."""
from __future__ import annotations

import uuid

import pytest

from schemas import Codec, topic
from switchboard.erase import Plan, produce, topic_records
from switchboard.kafka import read_range
from tests.kafka_fixture import wait_until
from tests.streams.identity.claims import claim, key
from tests.streams.identity.worker import Claims, IdentityWorker, Reader

pytestmark = pytest.mark.kafka
EVENTS, STATE = topic("identity-events").name, topic("identity-state").name


@pytest.fixture
def worker(kafka_bootstrap, tmp_path):
    w = IdentityWorker(kafka_bootstrap, tmp_path).start()
    yield w
    w.stop()


def latest(bootstrap: str, name: str, wanted: str) -> list:
    """Every value of key `wanted` in `name`, oldest first (None: a tombstone)."""
    return [m.value() for p in range(topic(name).partitions)
            for m in read_range({"bootstrap.servers": bootstrap}, name, p, 0) if m.key().decode() == wanted]


def test_an_erased_detail_is_forgotten_by_the_running_matcher(worker, kafka_bootstrap):
    tenant = f"t{uuid.uuid4().hex[:10]}"
    first, later = claim("messenger_email", tenant), claim("web_email", tenant)
    assert first["detail_value"] == later["detail_value"] and first["customer_id"] != later["customer_id"]
    events = Reader(kafka_bootstrap, tenant, {EVENTS: "identity-event"})
    claims = Claims(kafka_bootstrap)
    try:
        claims.send(first)
        events.wait_for(lambda r: any(v["type"] == "linked" for _, _, v, _ in r))
        p = Plan(tenant, first["customer_id"], [first["customer_id"]],
                 details=[(first["detail_type"], first["detail_value"])])
        produce({"bootstrap.servers": kafka_bootstrap}, Codec(),
                [r for r in topic_records(p, "e1", "cli:dpo") if r[0] == topic("identity-claims").name])
        # The worker's table forgets it: its changelog (read committed) ends with the detail's tombstone.
        values = wait_until(lambda: (v := latest(kafka_bootstrap, STATE, key(first))) and v[-1] is None and v,
                            what="the detail's tombstone")
        assert first["customer_id"].encode() in values[0]
        claims.send(later)   # the same detail claimed by someone else: decided on the forgotten state
        records = events.wait_for(lambda r: any(v["customer_id"] == later["customer_id"] for _, _, v, _ in r))
        records = events.drain()
        assert [(v["type"], v["customer_id"]) for _, _, v, _ in records if v["customer_id"] == later["customer_id"]] \
            == [("created", later["customer_id"]), ("linked", later["customer_id"])]   # no merge with the erased one
        assert not [v for _, _, v, _ in records if v["type"] == "merged"]
    finally:
        events.close()
