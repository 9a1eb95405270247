"""The identity matcher through the real broker: claims produced to identity-claims, decisions read
back from identity-events (and dead letters from identity-claims-dlq). Each test has its own tenant."""
import uuid

import pytest

from schemas import topic

from .claims import claim, key
from .worker import Claims, IdentityWorker, Reader

pytestmark = pytest.mark.kafka
EVENTS, DLQ = topic("identity-events").name, topic("identity-claims-dlq").name


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, tmp_path_factory):
    """One identity worker for the module's tests."""
    w = IdentityWorker(kafka_bootstrap, tmp_path_factory.mktemp("identity")).start()
    yield w
    w.stop()


@pytest.fixture
def tenant(worker):
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def claims(kafka_bootstrap):
    return Claims(kafka_bootstrap)


@pytest.fixture
def events(kafka_bootstrap, tenant):
    reader = Reader(kafka_bootstrap, tenant, {EVENTS: "identity-event", DLQ: "identity-claim"})
    yield reader
    reader.close()


def _of(records, kind):
    return [v for t, _, v, _ in records if t == EVENTS and v["type"] == kind]


def test_whatsapp_phone_joins_one_customer_and_a_second_id_for_it_merges(worker, tenant, claims, events):
    for name in ("whatsapp_phone", "whatsapp_phone_second_number", "whatsapp_bsuid_phone"):
        claims.send(claim(name, tenant))
    events.wait_for(lambda r: _of(r, "merged"))
    records = events.drain()  # the merge was produced last: everything before it is in
    ids = sorted({claim(n, tenant)["customer_id"] for n in ("whatsapp_phone", "whatsapp_bsuid_phone")})
    assert [(e["customer_id"], e["merged_customer_id"]) for e in _of(records, "merged")] == [tuple(ids)]
    assert len(_of(records, "linked")) == 1 and len(_of(records, "created")) == 2
    assert all(k == v["customer_id"] for t, k, v, _ in records)  # identity-events is keyed by customer id


def test_web_customer_volunteering_the_messenger_email_is_merged_with_its_reason(worker, tenant, claims, events):
    messenger, web = claim("messenger_email", tenant), claim("web_email", tenant)
    claims.send(messenger)
    claims.send(web)
    claims.send(web)  # a redelivered claim decides nothing new
    sentinel = claim("web_email", tenant, claim_id="sentinel", customer_id="cust-zz-sentinel", source="other")
    claims.send(sentinel)  # same key, same partition: decided after the redelivery
    events.wait_for(lambda r: _of(r, "flagged"))
    records = events.drain()  # the sentinel's flag was produced last: a second merge would be in
    merged = _of(records, "merged")
    assert len(merged) == 1, merged
    assert merged[0]["reason"] == "volunteered email matches the customer known from messenger"
    pair = {merged[0]["customer_id"], merged[0]["merged_customer_id"]}
    assert pair == {messenger["customer_id"], web["customer_id"]}


def test_ambiguous_email_is_flagged_with_its_candidates_and_not_merged(worker, tenant, claims, events):
    messenger, other = claim("messenger_email", tenant), claim("web_email_other_person", tenant)
    claims.send(messenger)
    claims.send(other)
    flagged = _of(events.wait_for(lambda r: _of(r, "flagged")), "flagged")[0]
    assert flagged["customer_id"] == other["customer_id"] and flagged["candidates"] == [messenger["customer_id"]]
    assert flagged["reason"].endswith("but the names differ") and _of(events.records, "merged") == []


def test_a_claim_under_the_wrong_key_goes_to_the_dead_letter_topic(worker, tenant, claims, events):
    bad = claim("web_email", tenant)
    claims.send(bad, record_key=f"{tenant}:email:someone-else@example.com")
    topic_, _, value, headers = events.wait_for(lambda r: any(t == DLQ for t, *_ in r))[0]
    assert topic_ == DLQ and value["claim_id"] == bad["claim_id"]
    assert headers["source.topic"] == b"identity-claims" and b"not the claim's detail key" in headers["error"]
    assert headers["stage"] == b"streams.identity"


def test_a_bsuid_claim_is_linked_not_dead_lettered(worker, tenant, claims, events):
    bsuid = claim("whatsapp_phone", tenant, detail_type="platform_user", detail_value="US.13491208655302741918",
                  claim_id="bsuid", origin="profile")
    claims.send(bsuid)
    [linked] = _of(events.wait_for(lambda r: _of(r, "linked")), "linked")
    assert (linked["detail_type"], linked["customer_id"]) == ("platform_user", bsuid["customer_id"])
