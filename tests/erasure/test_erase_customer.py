"""`switchboard admin erase-customer`: a customer (and its merged group) erased from the compacted
topics' current state, the facts and the media store, audited; other customers untouched."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.media.store import DirectoryStore
from schemas import Codec, catalogue, topic
from sink.history import history
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.state import StateCodec
from streams.identity.matching import decide
from switchboard.accounts import load_accounts
from switchboard.erase import TABLES_SQL, Plan, erase, plan, topic_records
from switchboard.errors import UserError
from switchboard.kafka import producer, read_range
from tests.connectors.helpers import FIXTURES as CONNECTOR_FIXTURES
from tests.sink.scenario import load, store_directly
from tests.streams.identity.claims import claim, key
from tests.streams.conversations.factory import ACCOUNTS, HOUR, T0, inbound

pytestmark = pytest.mark.clickhouse

EXTRA = Path(__file__).resolve().parents[1] / "fixtures" / "erasure" / "extra_events.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
LINE = "{t}:line:U4af4980629a1b2c3d4e5f60718293a4b:U99"
COMPACTED = [t.name for t in catalogue().values() if "compact" in t.config.get("cleanup.policy", "")]


@pytest.fixture
def media(tmp_path) -> tuple[DirectoryStore, str, str]:
    store = DirectoryStore(tmp_path / "media", 16 << 20)
    a = store.put((CONNECTOR_FIXTURES / "media" / "router_error.png").read_bytes(), "image/png").key
    c = store.put((CONNECTOR_FIXTURES / "media" / "receipt.jpg").read_bytes(), "image/jpeg").key
    return store, a, c


@pytest.fixture
def scenario(clickhouse_store, tenant, media) -> dict:
    _, a, c = media
    extra = json.loads(EXTRA.read_text().replace("TENANT", tenant).replace("MEDIA_A", a).replace("MEDIA_C", c))
    store_directly(clickhouse_store, load("history_scenario.json", tenant)["events"] + extra["events"])
    return extra


def state_records(tenant: str, events: list[dict]) -> list[tuple[str, str, bytes]]:
    """What the compacted topics hold of the tenant's customers before the erasure, as the processors
    write it: each thread's state and policy view after its inbound messages, each detail's identity
    state after its claim, the ledger entry of the first reply."""
    codec, config = Codec(), ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
    states, records = {}, []
    for e in (e for e in events if e["topic"] == "inbound-messages"):
        message = codec.decode(codec.encode("inbound-message", e["record"]), "inbound-message")
        step = apply("inbound-messages", states.get(message["thread_key"]), message, partition=0,
                     record_ms=message["received_at"], config=config)
        states[message["thread_key"]] = step.state
        records += [(o.topic, o.key, codec.encode("policy-view", o.value)) for o in step.outputs
                    if o.topic == topic("policy-views").name]
    records += [("conversation-state", k, StateCodec(codec).dumps(v)) for k, v in states.items()]
    for name, value, customer in [("web_email", "maria.lopez@example.com", "cust-A"),
                                  ("whatsapp_phone", "14155550123", "cust-A"),
                                  ("messenger_email", "carlos.ruiz@example.com", "cust-C")]:
        c = claim(name, tenant, detail_value=value, customer_id=customer)
        records.append(("identity-state", key(c), codec.encode("identity-state", decide(None, c)[0])))
    ledger = json.loads((EXAMPLES / "delivery-attempt" / "sent.json").read_text()) | {"outbound_id": "out-1",
                                                                                      "tenant_id": tenant}
    return records + [("delivery-ledger", "out-1", codec.encode("delivery-attempt", ledger))]


def current_state(bootstrap: str, tenant: str) -> dict[tuple[str, str], bytes]:
    """Every compacted topic read to its end: the latest value of each of the tenant's keys (tombstones dropped)."""
    latest = {}
    for name in COMPACTED:
        for partition in range(topic(name).partitions):
            for m in read_range({"bootstrap.servers": bootstrap}, name, partition, 0):
                latest[(name, m.key().decode())] = m.value()
    return {k: v for k, v in latest.items() if v is not None and tenant.encode() in v}


def fact_text(store, tenant: str) -> str:
    """Every row of the tenant in every MergeTree table with tenants (as erase.delete_facts reads them:
    another test's table without one is not the tenant's), as one text."""
    rows = []
    for table, columns in store.query(TABLES_SQL).result_rows:
        if table != "schema_migrations" and "tenant_id" in columns:
            rows += store.query(f"SELECT * FROM {table} WHERE tenant_id = {{t:String}}", {"t": tenant}).result_rows
    return repr(rows)


def test_an_erased_customer_is_found_nowhere_and_the_others_stay(kafka_bootstrap, clickhouse_store, tenant,
                                                                 scenario, media):
    store_media, key_a, key_c = media
    out = producer({"bootstrap.servers": kafka_bootstrap})
    for name, record_key, value in state_records(tenant, load("history_scenario.json", tenant)["events"] +
                                                 scenario["events"]):
        out.produce(name, key=record_key.encode(), value=value)
    assert out.flush(10) == 0
    before = current_state(kafka_bootstrap, tenant)
    assert any(b"maria.lopez@example.com" in v for v in before.values()) and \
        any(b"Got it, thanks" in v for v in before.values())

    p = plan(clickhouse_store, tenant, "cust-B")   # any id of the merged group erases the group
    assert p.customers == ["cust-A", "cust-B"] and len(p.threads) == 3 and p.media == [key_a]
    assert ("phone", "14155550123") in p.details and ("email", "maria.lopez@example.com") in p.details
    done = erase(clickhouse_store, p, client_config={"bootstrap.servers": kafka_bootstrap}, codec=Codec(),
                 media_store=store_media, requested_by="cli:dpo")

    after = current_state(kafka_bootstrap, tenant)
    erased = scenario["erased"]
    for needle in [erased["email"], erased["phone"], *erased["texts"], "14155550123", "sess-2b9c41"]:
        assert not [k for k, v in after.items() if needle.encode() in v or needle in k[1]], needle
    line = LINE.format(t=tenant)
    assert {("conversation-state", line), ("policy-views", f"thread:{line}"),
            ("identity-state", f"{tenant}:email:carlos.ruiz@example.com")} <= set(after)

    facts = fact_text(clickhouse_store, tenant)
    for needle in [erased["email"], erased["phone"], *erased["texts"], *erased["names"], "14155550123"]:
        assert needle not in facts, needle
    assert scenario["kept"]["email"] in facts and "Carlos here" in facts
    assert [m["message_id"] for m in history(clickhouse_store, tenant, "cust-C")["messages"]] == \
        ["in-line-c2", "in-line-c"]
    assert history(clickhouse_store, tenant, "cust-A")["messages"] == []

    assert not store_media.exists(key_a) and store_media.exists(key_c)
    audit = clickhouse_store.query("SELECT customer_id, customers, requested_by, messages, media, threads "
                                   "FROM erasure_facts FINAL WHERE tenant_id = {t:String}", {"t": tenant}).result_rows
    assert audit == [("cust-B", ["cust-A", "cust-B"], "cli:dpo", 6, 1, 3)]
    # per thread: conversation-state, the expiry index, policy-views; the details; the outbound ids
    assert done["tombstones"] == 3 * 3 + len(p.details) + 2 and "message_facts" in done["tables"]
    with pytest.raises(UserError, match="no customer 'cust-A'"):   # erased: nothing is left to find
        plan(clickhouse_store, tenant, "cust-A")


def test_the_conversation_processor_forgets_an_erased_thread_at_once():
    message = inbound()
    config = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
    state = apply("inbound-messages", None, message, partition=0, record_ms=T0, config=config).state
    assert state["thread_key"] == message["thread_key"]
    p = Plan(message["tenant_id"], "cust-A", ["cust-A"], threads=[message["thread_key"]])
    (name, key, value), *tombstones = topic_records(p)
    assert (name, key, value["kind"]) == ("conversation-timeouts", message["thread_key"], "erased")
    assert [t[:2] for t in tombstones] == [("conversation-state", key), ("conversation-due-index", f"thread:{key}"),
                                           ("policy-views", f"thread:{key}")]
    assert tombstones[1][3] == key   # on the thread's partition, where faust keeps its index entries
    erased = Codec().decode(Codec().encode("conversation-timeout", value), "conversation-timeout")
    step = apply("conversation-timeouts", state, erased, partition=0, record_ms=T0 + HOUR, config=config)
    assert step.state is None and step.outputs == [] and not step.duplicate   # the agent pops it: a tombstone
    again = apply("conversation-timeouts", None, erased, partition=0, record_ms=T0 + HOUR, config=config)
    assert again.duplicate   # a thread no worker holds: nothing to write


def test_an_unknown_customer_is_one_line_naming_the_fix(clickhouse_store, tenant):
    with pytest.raises(UserError, match="no customer 'cust-nobody' in tenant") as raised:
        plan(clickhouse_store, tenant, "cust-nobody")
    assert "\n" not in str(raised.value)
