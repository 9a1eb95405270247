"""The channel policy's facts (issue 12): consents, account events, approvals with their fallbacks and
estimates, holds and window expiries, mapped from contract records and landed in ClickHouse."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from schemas import Codec
from sink.rows import rows_of
from sink.rows_policy import fallbacks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sink"
TIMES = {"occurred_at", "created_at", "hold_until", "window_open_until", "free_until", "watermark"}
SUBJECTS = {"consents": "consent", "account_events": "account-event", "approved": "outbound-message",
            "held": "delivery-status", "window_closed": "conversation-event"}


def records(group: str, tenant: str = "acme") -> list[dict]:
    """The fixture's records of `group` as the codec decodes them: times as UTC datetimes."""
    raw = json.loads((FIXTURES / "policy_records.json").read_text().replace("TENANT", tenant))[group]
    return [{k: datetime.fromtimestamp(v / 1000, timezone.utc) if k in TIMES and v is not None else v
             for k, v in r.items()} for r in raw]


def tables(subject: str, record: dict) -> dict[str, dict]:
    return {table: row for table, row in rows_of(subject, record)}


def test_a_consent_is_one_fact_with_its_source_and_keyword():
    opt_in, stop = (tables("consent", r)["consent_facts"] for r in records("consents"))
    assert (opt_in["action"], opt_in["source"], opt_in["recorded_by"], opt_in["text"]) == ("opt_in", "web_form", "sup-lena", None)
    assert (stop["action"], stop["source"], stop["text"]) == ("opt_out", "keyword", "STOP")


def test_an_account_event_keeps_its_templates_as_parallel_arrays_and_a_count():
    synced, paused, quality, quota = (tables("account-event", r)["account_event_facts"] for r in records("account_events"))
    assert synced["template_count"] == 3 and synced["template_names"] == ["order_update", "spring_offer", "card_blocked_followup"]
    assert synced["template_statuses"] == ["APPROVED", "APPROVED", "PENDING"]
    assert (paused["kind"], paused["template_statuses"], paused["attributes"]) == ("template_status", ["PAUSED"], {"reason": "LOW_QUALITY"})
    assert (quality["quality_rating"], quality["messaging_limit_tier"], quality["template_count"]) == ("RED", "TIER_250", 0)
    assert (quota["quota_limit"], quota["quota_used"]) == (500, 37)


def test_an_approved_outbound_is_a_message_and_an_approval_with_its_fallbacks_and_estimate():
    template, sticker, push = records("approved")
    approval = tables("outbound-message", template)["outbound_approval_facts"]
    assert (approval["business_initiated"], approval["template_name"], approval["template_category"]) == (1, "order_update", "utility")
    assert (approval["price_amount"], approval["price_currency"], approval["portfolio_key"]) == (Decimal("0.0080"), "USD", "acme:main")
    assert set(tables("outbound-message", sticker)) == {"message_facts", "outbound_approval_facts"}
    assert tables("outbound-message", sticker)["outbound_approval_facts"]["fallbacks"] == ["sticker:emoji", "quick_reply:numbered_text"]
    old = tables("outbound-message", push)["outbound_approval_facts"]   # a v2 record: no v3 fields
    assert (old["business_initiated"], old["portfolio_key"], old["fallbacks"], old["price_amount"]) == (0, None, [], None)


@pytest.mark.parametrize("attribute,items", [(None, []), ("", []), ("sticker:emoji", ["sticker:emoji"]),
                                             ("sticker:emoji, location:map_link,", ["sticker:emoji", "location:map_link"])])
def test_the_fallbacks_attribute_is_a_comma_list(attribute, items):
    assert fallbacks(attribute) == items


def test_a_malformed_price_estimate_is_bad_input_for_the_dead_letters():
    [template, *_] = records("approved")
    with pytest.raises(ValueError, match="price.amount"):
        rows_of("outbound-message", template | {"attributes": {"price.amount": "cheap"}})


def test_a_held_status_keeps_why_and_until_when():
    first = tables("delivery-status", records("held")[0])["delivery_facts"]
    assert (first["status"], first["hold_reason"]) == ("held", "tier.whatsapp_unique_recipients")
    assert first["hold_until"] == datetime(2026, 10, 2, 9, 1, 40, tzinfo=timezone.utc) and first["cost"] is None


def test_a_window_closed_event_is_a_window_expiry_and_other_events_are_not():
    [closed] = records("window_closed")
    found = tables("conversation-event", closed)
    assert found["window_expiry_facts"]["window_rule"] == "window.whatsapp_24h"
    assert found["conversation_facts"]["last_event_at"] == closed["occurred_at"]
    assert "window_expiry_facts" not in tables("conversation-event", closed | {"type": "closed", "reason": "inactivity"})


@pytest.mark.clickhouse
def test_policy_facts_land_count_once_on_replay_and_make_runs_counts_read_them(clickhouse_store, clickhouse_client, tenant):
    from sink.reports import run_facts
    from sink.store import ServerStore

    every = [(SUBJECTS[g], r) for g in SUBJECTS for r in records(g, tenant)]
    began = datetime.fromtimestamp(1790844000, timezone.utc)   # after the consents' and the first sync's times
    # Other tests' rows share the tables (some in October 2026 too): count what this test adds.
    before = run_facts(clickhouse_client, began)
    for _ in range(2):   # a replay replaces every row
        for subject, record in every:
            for table, row in rows_of(subject, record):
                ServerStore(clickhouse_client).insert(table, [row])
    count = {t: clickhouse_store.query(f"SELECT count() FROM {t} FINAL WHERE tenant_id = {{t:String}}", {"t": tenant}).result_rows[0][0]
             for t in ("consent_facts", "account_event_facts", "outbound_approval_facts", "window_expiry_facts")}
    assert count == {"consent_facts": 2, "account_event_facts": 4, "outbound_approval_facts": 3, "window_expiry_facts": 1}
    per_fallback = clickhouse_store.query(
        "SELECT channel, arrayJoin(fallbacks) AS f, count() FROM outbound_approval_facts FINAL WHERE tenant_id = {t:String} "
        "GROUP BY channel, f ORDER BY f", {"t": tenant}).result_rows
    assert per_fallback == [("x", "quick_reply:numbered_text", 1), ("x", "sticker:emoji", 1)]
    held = clickhouse_store.query("SELECT hold_reason, toUnixTimestamp64Milli(hold_until) FROM delivery_facts FINAL "
                                  "WHERE tenant_id = {t:String} ORDER BY event_id", {"t": tenant}).result_rows
    assert held == [("tier.whatsapp_unique_recipients", 1790931700000), ("throughput.whatsapp", None),
                    ("tier.whatsapp_unique_recipients", None)]
    facts = run_facts(clickhouse_client, began)
    assert (facts["approved"] - before["approved"], facts["held"] - before["held"]) == (3, 2)


@pytest.mark.parametrize("group", sorted(SUBJECTS))
def test_the_records_round_trip_through_their_schemas(group):
    subject = SUBJECTS[group]
    codec = Codec()
    for record in records(group):
        decoded = codec.decode(codec.encode(subject, record), subject)
        assert rows_of(subject, decoded) == rows_of(subject, record)
