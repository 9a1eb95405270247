"""`make run`'s summary: what flowed, counted from the topics, and what the facts say (the whole run,
end to end, is tests/integration/test_registry_mode.py)."""
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from channels.registry import CHANNELS
from deploy.flow import FlowCounter
from schemas import Codec
from switchboard.kafka import producer

pytestmark = pytest.mark.kafka


def test_flow_counter_counts_what_was_written_since_it_started_by_topic_and_channel(kafka_bootstrap):
    example = json.loads(open("schemas/examples/inbound-message/whatsapp_text.json").read())
    out = producer({"bootstrap.servers": kafka_bootstrap})
    out.produce("inbound-messages", key="before", value=Codec().encode("inbound-message", example))
    out.flush(10)
    time.sleep(0.01)  # the counter starts strictly after that record's timestamp
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    for channel in ("whatsapp", "line", "line"):
        record = example | {"channel": channel}
        out.produce("inbound-messages", key=channel, value=Codec().encode("inbound-message", record))
    out.produce("inbound-messages-dlq", key="bad", value=b"\x00not avro")
    out.flush(10)
    summary = counter.stop()
    assert summary["events"] == {"inbound-messages": 3, "inbound-messages-dlq": 1}
    assert summary["channels"] == {"inbound-messages": {"line": 2, "whatsapp": 1}}
    assert summary["dead_letters"] == 1


def test_capability_counts_come_from_the_records_that_prove_them(kafka_bootstrap):
    from deploy.summary import capability_counts

    examples = {s: json.loads(open(f"schemas/examples/{s}/{n}.json").read()) for s, n in [
        ("delivery-attempt", "sent"), ("delivery-status", "messenger_read"), ("agent-event", "offered"),
        ("agent-action", "wrap_up"), ("segment-fact", "interact")]}
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    out, codec = producer({"bootstrap.servers": kafka_bootstrap}), Codec()
    records = [("delivery-ledger", "delivery-attempt", examples["delivery-attempt"]),
               ("delivery-ledger", "delivery-attempt", examples["delivery-attempt"] | {"channel": "web"}),
               ("delivery-ledger", "delivery-attempt", examples["delivery-attempt"] | {"state": "sending"}),
               ("delivery-status", "delivery-status", examples["delivery-status"]),
               ("delivery-status", "delivery-status", examples["delivery-status"] | {"status": "sent"}),
               ("agent-notifications", "agent-event", examples["agent-event"]),
               ("agent-actions", "agent-action", examples["agent-action"] | {"type": "accept"}),
               ("segment-facts", "segment-fact", examples["segment-fact"] | {"segment_type": "wrapup"})]
    for name, subject, record in records:
        out.produce(name, key="k", value=codec.encode(subject, record))
    out.flush(10)
    counter.stop()
    counts = capability_counts(counter)
    assert counts["delivered"]["whatsapp"] == 1  # the ledger's `sent`, not the platform's `sent` status
    assert counts["delivered"]["web"] == 1 and set(counts["inbound"]) == set(CHANNELS)   # web included, as derived
    assert counts["receipts"]["messenger"] == 1
    assert (counts["offers"], counts["accepted"], counts["wrapped_up"]) == (1, 1, 1)


def test_human_counts_are_those_of_the_people_who_sign_in_not_the_simulated_agents(kafka_bootstrap):
    from deploy.summary import human_counts

    offer = json.loads(open("schemas/examples/agent-event/offered.json").read())
    action = json.loads(open("schemas/examples/agent-action/wrap_up.json").read())
    reply = json.loads(open("schemas/examples/outbound-message/" + _first("outbound-message")).read())
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    out, codec = producer({"bootstrap.servers": kafka_bootstrap}), Codec()
    for agent in ("alice", "alice", "agent-ana"):
        out.produce("agent-notifications", key=agent, value=codec.encode("agent-event", offer | {"agent_id": agent}))
    for agent, kind in [("alice", "page_open"), ("alice", "page_open"), ("agent-ana", "page_open"), ("alice", "accept")]:
        out.produce("agent-actions", key="acme", value=codec.encode("agent-action", action | {"agent_id": agent, "type": kind}))
    out.produce("outbound-messages", key="k", value=codec.encode("outbound-message", reply | {"agent_id": "alice", "kind": "reply"}))
    out.flush(10)
    counter.stop()
    assert human_counts(counter, {"alice", "bob"}) == {
        "agents_signed_in": 1, "human_offers": 2, "human_accepted": 1, "human_replies": 1}


@pytest.mark.clickhouse
def test_the_summary_counts_approved_and_held_outbounds_and_the_template_cost_of_the_run(clickhouse_url, clickhouse_client):
    # As `make run` reads them at the end (deploy.run._settled_fact_counts, over the sink's HTTP):
    # approved = outbound ids approved during the run, held = distinct outbound ids held during it.
    from deploy.run import _settled_fact_counts
    from sink.rows import rows_of
    from sink.store import ServerStore
    from switchboard.settings import load_settings

    began = datetime(2100, 1, 1, tzinfo=timezone.utc) + timedelta(days=random.randrange(10_000))  # no other test's time
    fixture = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "sink" / "policy_records.json").read_text())
    approved, [held, held_again, *_] = fixture["approved"], fixture["held"]
    records = [("outbound-message", r | {"created_at": began + timedelta(seconds=i), "tenant_id": "t-run"})
               for i, r in enumerate(approved)]
    records += [("outbound-message", approved[0] | {"outbound_id": "before-the-run", "created_at": began - timedelta(seconds=1)})]
    records += [("delivery-status", h | {"occurred_at": began + timedelta(minutes=i), "hold_until": None, "tenant_id": "t-run"})
                for i, h in enumerate((held, held_again))]   # the same outbound held twice: one held message
    for subject, record in records:
        for table, row in rows_of(subject, record):
            ServerStore(clickhouse_client).insert(table, [row])
    from tests.clickhouse_fixture import WRITER

    settings = load_settings(clickhouse_url=clickhouse_url, clickhouse_password=WRITER[1])
    facts = _settled_fact_counts(settings, int(began.timestamp() * 1000))
    assert (facts["approved"], facts["held"]) == (3, 1), facts
    assert facts["template_cost"] == {} and facts["facts"] > 0, facts


def _first(subject: str) -> str:
    import os

    return sorted(os.listdir(f"schemas/examples/{subject}"))[0]


def test_the_policy_scenario_asks_for_approvals_replacements_and_refusals_on_four_channels():
    # What the simulated run asks of the policy (connectors/simulators/scenario.py); the verdicts are
    # the policy's, counted in the summary (approved, rejected, held) by the end-to-end run.
    import asyncio

    from connectors.simulators.scenario import CustomerScenario, PolicyScenario
    from connectors.simulators.simulator import Simulator
    from switchboard.accounts import load_accounts

    sim = Simulator(list(load_accounts("deploy/accounts.yaml")), "http://127.0.0.1:9")
    policy = PolicyScenario(sim, CustomerScenario(sim), edge_url="http://127.0.0.1:9", settle=0,
                            kafka={"bootstrap.servers": "127.0.0.1:9"}, supervisor=("acme", "sofia", "-"), codec=Codec())
    sent, posts = [], []
    policy.producer = type("Out", (), {"produce": lambda _s, _t, key, value: sent.append(
        Codec().decode(value, "outbound-message")), "flush": lambda _s, _t: 0})()

    async def wrote(channel, _customer, ago_ms=0):
        return sim.account(channel)

    async def post(_http, path, _headers, body, _counted):
        posts.append((path, body))

    async def sign_in(_http):
        return {}

    policy._customer_writes, policy._post, policy._sign_in = wrote, post, sign_in

    async def play():
        await asyncio.gather(policy._x(), policy._line(), policy._messenger(), policy._whatsapp())
    asyncio.run(play())
    per_channel = {c: [r for r in sent if r["channel"] == c] for c in ("x", "line", "messenger")}
    assert [len(v) for v in per_channel.values()] == [7, 2, 1]     # X: a 6th and 7th reply to one DM
    assert per_channel["x"][0]["content"] == [{"type": "sticker", "text": "👋", **{k: None for k in
                                               per_channel["x"][0]["content"][0] if k not in ("type", "text")}}]
    assert {r["agent_id"] for r in sent} == {"system:notifications"} and all(r["conversation_id"] is None for r in sent)
    assert [p for p, _ in posts] == ["/api/v1/consents", "/api/v1/notifications", "/api/v1/notifications"]
    consent, *notifications = [b for _, b in posts]
    assert consent["action"] == "opt_in" and notifications[0]["recipient_id"] == consent["recipient_id"]
    assert notifications[1]["recipient_id"] != consent["recipient_id"]    # no opt-in: refused
