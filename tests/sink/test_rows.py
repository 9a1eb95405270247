"""Row mapping per subject, from the contract's examples, and the DDL they land in."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from schemas import Codec, catalogue
from sink.consumer import sink_topics
from sink.rows import MAPPERS, rows_of
from streams.identity.matching import decide

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = [(s, p) for s in MAPPERS for p in sorted((EXAMPLES / s).glob("*.json"))]


def decoded(subject: str, path: Path, tenant: str = "acme") -> dict:
    codec = Codec()
    record = json.loads(path.read_text()) | {"tenant_id": tenant}
    return codec.decode(codec.encode(subject, record), subject)


def test_every_sink_topic_has_a_mapper_and_every_mapped_subject_an_example():
    declared = {t.name for t in catalogue().values() if "sink" in t.consumers}
    assert set(sink_topics()) == declared
    assert {s for s, _ in CASES} == set(MAPPERS)


def test_inbound_message_becomes_a_partial_message_fact():
    [(table, row)] = rows_of("inbound-message", decoded("inbound-message", EXAMPLES / "inbound-message" / "whatsapp_text.json"))
    assert table == "message_facts"
    assert row["message_id"] == "in-5d0f3b0e-4b8e-5a53-9a6f-0e3c2f7f0a11"
    assert (row["direction"], row["channel"], row["content_types"]) == ("inbound", "whatsapp", ["text"])
    assert row["conversation_id"] is None and row["customer_id"] is None  # conversation-events know them


def test_conversation_start_names_the_message_conversation_and_customer():
    record = decoded("conversation-event", EXAMPLES / "conversation-event" / "started.json")
    (t1, conversation), (t2, message), (t3, timeline) = rows_of("conversation-event", record)
    assert (t1, t2, t3) == ("conversation_facts", "message_facts", "message_timeline")
    assert conversation["started_at"] == record["occurred_at"] and conversation["closed_at"] is None
    assert message["message_id"] == record["message_id"] == timeline["message_id"]
    assert (message["conversation_id"], message["customer_id"]) == (record["conversation_id"], "cust-4e5f6a7b")
    assert (timeline["occurred_at"], timeline["sender_kind"]) == (record["occurred_at"], "customer")


def test_a_wrap_up_adds_its_code_and_agent_without_starting_anything():
    record = decoded("conversation-event", EXAMPLES / "conversation-event" / "wrapped_up.json")
    [(_, conversation)] = rows_of("conversation-event", record)
    assert conversation["wrapup_codes"] == ["card-blocked"] and conversation["agents"] == ["agent-ana"]
    assert conversation["started_at"] is None


@pytest.mark.clickhouse
@pytest.mark.parametrize("subject,path", CASES, ids=[f"{s}/{p.stem}" for s, p in CASES])
def test_each_example_lands_in_its_tables(clickhouse_store, tenant, subject, path):
    rows = rows_of(subject, decoded(subject, path, tenant))
    for table, row in rows:
        clickhouse_store.insert(table, [row])
    for table in {t for t, _ in rows}:
        count = clickhouse_store.query(f"SELECT count() FROM {table} FINAL WHERE tenant_id = {{t:String}}",
                                       {"t": tenant}).result_rows[0][0]
        assert count >= 1, table


def test_an_agent_ended_interaction_and_an_inactivity_close_are_different_facts():
    ended = decoded("conversation-event", EXAMPLES / "conversation-event" / "interaction_ended.json")
    [(_, row)] = rows_of("conversation-event", ended)
    assert (row["interaction_ended_at"], row["interaction_end_reason"]) == (ended["occurred_at"], "agent_ended")
    assert row["closed_at"] is None and row["close_reason"] is None      # the conversation stays open
    closed = ended | {"type": "closed", "reason": "inactivity", "wrapup_code": None, "agent_id": None}
    [(_, row)] = rows_of("conversation-event", closed)
    assert (row["close_reason"], row["interaction_ended_at"]) == ("inactivity", None)


@pytest.mark.clickhouse
def test_an_edit_and_a_forward_keep_what_they_refer_to_in_the_message_facts(clickhouse_store, tenant):
    edit = decoded("inbound-message", EXAMPLES / "inbound-message" / "messenger_edit.json", tenant)
    edited = decoded("conversation-event", EXAMPLES / "conversation-event" / "message_edited.json", tenant)
    forward = decoded("inbound-message", EXAMPLES / "inbound-message" / "whatsapp_forwarded.json", tenant)
    (_, conversation), (_, from_event), (table, _) = rows_of("conversation-event", edited)
    assert table == "message_timeline"
    assert conversation["first_inbound_at"] is None    # an edit is not the conversation's first message
    assert (from_event["kind"], from_event["target_message_id"]) == ("edit", edited["target_message_id"])
    for subject, record in (("inbound-message", edit), ("conversation-event", edited), ("inbound-message", forward)):
        for table, row in rows_of(subject, record):
            clickhouse_store.insert(table, [row])
    found = {r[0]: r[1:] for r in clickhouse_store.query(
        "SELECT message_id, kind, target_message_id, reply_to_message_id, forwarded, frequently_forwarded "
        "FROM message_facts FINAL WHERE tenant_id = {t:String}", {"t": tenant}).result_rows}
    assert found[edit["event_id"]] == ("edit", edit["target_message_id"], None, 0, 0)
    assert found[edited["message_id"]][:3] == ("edit", edited["target_message_id"], edited["reply_to_message_id"])
    assert found[forward["event_id"]][3:] == (1, 1)


@pytest.mark.clickhouse
def test_an_identity_decision_keeps_the_identitys_name_in_the_identity_facts(clickhouse_store, tenant):
    # The matcher's events carry the claim's display name (identity-event v2); a v1 event has none.
    claim = json.loads((FIXTURES / "identity" / "claims.json").read_text())["whatsapp_phone"]
    claim |= {"tenant_id": tenant, "claim_id": f"wa-{tenant}", "customer_id": "cust-wa",
              "thread_key": f"{tenant}:whatsapp:{claim['channel_account_id']}:{claim['external_id']}"}
    _state, events = decide(None, claim)
    old = decoded("identity-event", EXAMPLES / "identity-event" / "merged.json", tenant)
    for record in [Codec().decode(Codec().encode("identity-event", e), "identity-event") for e in events] + [old]:
        for table, row in rows_of("identity-event", record):
            clickhouse_store.insert(table, [row])
    found = clickhouse_store.query("SELECT type, display_name FROM identity_facts FINAL WHERE tenant_id = {t:String} "
                                   "ORDER BY type", {"t": tenant}).result_rows
    assert found == [("created", "Maria Lopez"), ("linked", "Maria Lopez"), ("merged", None)]


@pytest.mark.clickhouse
def test_conversations_count_per_entry_point_and_campaign_and_an_ad_start_is_recognizable(clickhouse_store, tenant):
    # conversation-event v4: the started event carries the referral's entry point; later events do not.
    started = decoded("conversation-event", EXAMPLES / "conversation-event" / "started_from_an_ad.json", tenant)
    added = started | {"event_id": "ce-3", "type": "message_added", "sequence": 2, "entry_point_id": None,
                       "campaign_id": None, "referral_source": None, "referral_source_id": None}
    plain = decoded("conversation-event", EXAMPLES / "conversation-event" / "started.json", tenant)
    for record in (started, added, plain):
        for table, row in rows_of("conversation-event", record):
            clickhouse_store.insert(table, [row])
    per_campaign = clickhouse_store.query(
        "SELECT campaign_id, entry_point_id, count() FROM conversation_facts FINAL WHERE tenant_id = {t:String} "
        "GROUP BY campaign_id, entry_point_id ORDER BY campaign_id", {"t": tenant}).result_rows
    assert per_campaign == [("travel-card-2026", "travel-card-ad", 1), (None, None, 1)]
    from_ads = clickhouse_store.query(
        "SELECT conversation_id FROM conversation_facts FINAL WHERE tenant_id = {t:String} AND channel = 'whatsapp' "
        "AND referral_source = 'ad' AND referral_source_id IS NOT NULL", {"t": tenant}).result_rows
    assert from_ads == [(started["conversation_id"],)]


def test_a_message_fact_has_the_queue_its_message_added_carried_and_none_before_a_queue():
    # The conversation processor puts the conversation's queue at the time on message_added (state v6).
    waiting = decoded("conversation-event", EXAMPLES / "conversation-event" / "message_added_waiting_in_a_queue.json")
    before = decoded("conversation-event", EXAMPLES / "conversation-event" / "message_added_reply.json")
    facts = {r["message_id"]: r["queue_id"] for record in (waiting, before)
             for table, r in rows_of("conversation-event", record) if table == "message_facts"}
    assert facts == {waiting["message_id"]: "loans", before["message_id"]: None}


def test_a_bare_referral_is_no_message_fact():
    referral = json.loads((FIXTURES / "normalized" / "messenger" / "referral.json").read_text())["messages"][0]
    assert rows_of("inbound-message", referral | {"kind": "referral"}) == []


def whatsapp_status(name: str, tenant: str, **changes) -> dict:
    """A WhatsApp status webhook fixture's normalized delivery-status, through the codec, for `tenant`."""
    [record] = json.loads((FIXTURES / "normalized" / "whatsapp" / f"{name}.json").read_text())["statuses"]
    record = record | {"tenant_id": tenant, "thread_key": tenant + record["thread_key"].removeprefix("acme")} | changes
    return Codec().decode(Codec().encode("delivery-status", record), "delivery-status")


@pytest.mark.clickhouse
def test_whatsapp_costs_sum_per_day_and_category_counting_each_delivered_message_once(clickhouse_store, tenant):
    from switchboard.pricing import prices

    template = whatsapp_status("status_template_delivered", tenant)
    records = [template, template,                                           # a redelivered webhook replaces
               whatsapp_status("status_template_delivered", tenant, event_id="ds-sent", status="sent"),  # same pricing
               whatsapp_status("delivery_receipt", tenant),                   # a service reply: free
               whatsapp_status("status_free_entry_point", tenant),            # the free entry point window
               whatsapp_status("status_cbp_sent", tenant)]                    # per conversation: kept, not priced
    for record in records:
        for table, row in rows_of("delivery-status", record):
            clickhouse_store.insert(table, [row])
    per_day = clickhouse_store.query(
        "SELECT toString(toDate(occurred_at)), pricing_category, currency, sum(cost), count() FROM delivery_facts FINAL "
        "WHERE tenant_id = {t:String} AND cost IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2", {"t": tenant}).result_rows
    marketing = prices().rate_at("brazil", template["occurred_at"]).marketing
    assert [(d, c, cur, Decimal(str(s)), n) for d, c, cur, s, n in per_day] == [
        ("2025-03-14", "service", "USD", 0, 1), ("2026-01-05", "marketing", "USD", marketing, 1),
        ("2026-01-05", "referral_conversion", "USD", 0, 1)]
    kept = clickhouse_store.query(
        "SELECT pricing_model, pricing_category, billable, conversation_origin, platform_conversation_id, market, country "
        "FROM delivery_facts FINAL WHERE tenant_id = {t:String} AND status = 'sent' ORDER BY pricing_model",
        {"t": tenant}).result_rows
    assert kept == [("CBP", "utility", 1, "utility", "c2a8f0e4b6d1937a5e0f4c2b8d6a1e3f", None, None),
                    ("PMP", "marketing", 1, None, None, None, None)]


@pytest.mark.clickhouse
def test_make_runs_template_cost_sums_what_was_delivered_since_the_run_began(clickhouse_client, tenant):
    # As deploy/run.py reads it: clickhouse-connect over the sink's HTTP, rows inserted the same way.
    from sink.reports import template_cost
    from sink.store import ServerStore
    from switchboard.pricing import prices

    began = datetime(2040, 1, 1, tzinfo=timezone.utc) + timedelta(days=random.randrange(10_000))  # no other test's time
    for at in (began - timedelta(seconds=1), began, began + timedelta(hours=1)):
        later = whatsapp_status("status_template_delivered", tenant, event_id=f"ds-{at.timestamp()}", occurred_at=at)
        [(table, row)] = rows_of("delivery-status", later)
        ServerStore(clickhouse_client).insert(table, [row])
    assert template_cost(clickhouse_client, began) == {"USD": float(2 * prices().rate_at("brazil", began).marketing)}
