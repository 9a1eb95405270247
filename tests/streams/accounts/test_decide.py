"""The account stage's rules, one table per rule, through its pure core (no broker)."""
from decimal import Decimal

import pytest

from streams.accounts.templates import parameters_problem

from .factory import DAY, HOUR, T0, Stage, config, record, template, verdicts


@pytest.mark.parametrize("overrides,expected", [
    ({}, ("approved", "out-1")),
    ({"name": "no_such_template"}, ("rejected", "out-1", "template.unknown")),
    ({"name": "winter_sale", "parameters": ["Maria"]}, ("rejected", "out-1", "template.not_approved")),
    ({"parameters": ["Maria"]}, ("rejected", "out-1", "template.parameters")),
    ({"parameters": ["Maria", "next Tuesday"]}, ("rejected", "out-1", "template.parameters")),
    ({"name": "order_total", "parameters": ["Maria", "12.50"]}, ("approved", "out-1")),
    ({"name": "order_total", "parameters": ["Maria", "twelve"]}, ("rejected", "out-1", "template.parameters")),
    ({"parameters": ["  ", "2025-11-28"]}, ("rejected", "out-1", "template.parameters")),
])
def test_a_template_is_checked_against_the_catalogue(overrides, expected):
    assert verdicts(Stage().synced().send(template(1, **overrides))) == [expected]


def test_the_rejection_names_the_status_and_the_failed_status_tells_the_agent():
    outputs = Stage().synced().send(template(1, name="winter_sale", parameters=["Maria"]))
    rejection, failed = (o.value for o in outputs)
    assert "PAUSED" in rejection["reason"] and rejection["rule"] == "template.not_approved"
    assert failed["status"] == "failed" and failed["error_code"] == "template.not_approved"
    assert failed["thread_key"] == rejection["thread_key"] and failed["event_id"].startswith("ds-")


def test_without_a_synced_catalogue_a_template_is_refused_with_how_to_sync():
    [rejection, _] = Stage().send(template(1))
    assert rejection.value["rule"] == "template.catalogue_missing" and "deliver syncs" in rejection.value["reason"]


def test_an_approved_template_gets_its_category_and_estimated_price():
    [approved] = Stage().synced().send(template(1))
    assert approved.value["template"]["category"] == "utility"
    attributes = approved.value["attributes"]
    assert attributes["price.category"] == "utility" and attributes["price.currency"] == "USD"
    assert Decimal(attributes["price.amount"]) == Decimal("0.004")   # deploy/pricing: north_america utility


def test_a_paused_status_update_refuses_a_template_that_was_approved():
    stage = Stage().synced()
    update = record("templates_synced", kind="template_status", event_id="ae-2", templates=[
        {"name": "card_delivery_update", "language": "en_US", "category": "UTILITY", "status": "PAUSED", "parameters": []}])
    stage.feed("account-events", update, T0 - 1)
    [rejection, _] = stage.send(template(1))
    assert rejection.value["rule"] == "template.not_approved"


@pytest.mark.parametrize("values,types,problem", [
    (["a", "2025-11-28T10:00:00"], ["text", "date_time"], None),
    (["a"], ["text", "date_time"], "1 parameters given, the template has 2"),
    (["a", "b", "c"], ["text", "text"], "3 parameters given, the template has 2"),
    (["1,250.00"], ["currency"], None),
    (["€5"], ["currency"], "parameter 1 (currency) is not valid: '€5'"),
    (["https://cdn.example/x.jpg"], ["image"], None),
])
def test_parameters_by_declared_type(values, types, problem):
    assert parameters_problem(values, types) == problem


def test_the_251st_new_customer_is_held_and_goes_when_the_tier_rises():
    stage = Stage().synced()   # the small ladder: TIER_250 = 3
    assert verdicts(sum((stage.send(template(n), T0 + n) for n in range(3)), [])) == \
        [("approved", "out-0"), ("approved", "out-1"), ("approved", "out-2")]
    [held] = stage.send(template(3), T0 + 3)
    assert held.value["hold_reason"] == "tier TIER_250: 3 unique customers in 24 h"
    assert held.value["hold_until"] == T0 + DAY   # when the first counted customer leaves the window
    assert verdicts(stage.send(template(0, outbound_id="out-0b"), T0 + 4)) == [("approved", "out-0b")]   # counted
    assert stage.tick(T0 + 5) == []
    released = stage.feed("account-events", record("quality_update"), T0 + 6)
    assert verdicts(released) == [("approved", "out-3")] and stage.state["held"] == []


def test_a_quality_update_lowering_the_tier_applies_at_once():
    stage = Stage().synced()
    stage.feed("account-events", record("quality_update"), T0)          # TIER_2K = 5
    for n in range(4):
        stage.send(template(n), T0 + n)
    stage.feed("account-events", record("quality_update", messaging_limit_tier="TIER_250"), T0 + 10)
    assert verdicts(stage.send(template(9), T0 + 11))[0][0] == "held"


def test_headroom_returns_when_the_oldest_customer_leaves_the_24_h():
    stage = Stage().synced()
    for n in range(3):
        stage.send(template(n), T0 + n * HOUR)
    stage.send(template(3), T0 + 3 * HOUR)
    assert stage.tick(T0 + DAY - 1) == []
    assert verdicts(stage.tick(T0 + DAY + 1)) == [("approved", "out-3")]
    assert len(stage.state["recipients"]) == 3   # bounded: customer 0 was dropped


def test_throughput_holds_beyond_the_numbers_rate_and_releases_in_order():
    stage = Stage().synced()
    paced = lambda n: template(n, channel_account_id="109876543210988", business_initiated=False,   # noqa: E731
                               thread_key=f"acme:whatsapp:109876543210988:1415555{n:04d}")
    got = sum((stage.send(paced(n), T0 + n) for n in range(4)), [])
    assert [v[0] for v in verdicts(got)] == ["approved", "approved", "held", "held"]
    assert verdicts(stage.tick(T0 + 1000)) == [("approved", "out-2"), ("approved", "out-3")]


def test_a_message_behind_a_held_one_of_its_thread_waits_for_it():
    stage = Stage().synced()
    for n in range(3):
        stage.send(template(n), T0 + n)
    stage.send(template(3), T0 + 3)
    later = template(3, outbound_id="out-3b", business_initiated=False)
    [held] = stage.send(later, T0 + 4)
    assert held.value["hold_reason"].startswith("after out-3")
    assert verdicts(stage.feed("account-events", record("quality_update"), T0 + 5)) == \
        [("approved", "out-3"), ("approved", "out-3b")]


@pytest.mark.parametrize("budget,expected", [
    ({"budget_daily": "0.0100"}, ["approved", "approved", "rejected"]),
    ({"budget_monthly": "0.0080"}, ["approved", "approved", "rejected"]),
    ({"budget_daily": "1"}, ["approved", "approved", "approved"]),
    ({}, ["approved", "approved", "approved"]),
])
def test_budgets_refuse_a_business_initiated_send_beyond_them(budget, expected):
    stage = Stage(config(budget)).synced()
    got = sum((stage.send(template(n), T0 + n) for n in range(3)), [])
    assert [v[0] for v in verdicts(got)] == expected
    if expected[-1] == "rejected":
        reason = [o.value["reason"] for o in got if o.subject == "outbound-rejection"][0]
        price = Decimal(got[0].value["attributes"]["price.amount"])
        assert f"{2 * price} spent" in reason and f"+ {price} for this message" in reason


def test_a_message_free_in_the_entry_point_window_costs_nothing_against_the_budget():
    stage = Stage(config({"budget_daily": "0"})).synced()
    [approved] = stage.send(template(1, free_until=T0 + HOUR))
    assert approved.value["attributes"]["price.amount"] == "0"


@pytest.mark.parametrize("zone,at,held_until", [
    ("America/Los_Angeles", T0, T0 + 6 * HOUR + 30 * 60_000),    # 01:30 there: until 08:00 (16:00 UTC)
    ("Europe/Madrid", T0, None),                                  # 10:30 there
    (None, T0, None),                                             # +34: from the number, Madrid, 10:30
])
def test_quiet_hours_hold_until_they_end_in_the_recipients_zone(zone, at, held_until):
    stage = Stage(config({"quiet_hours": {"start": "21:00", "end": "08:00"}, "time_zone": "Europe/Madrid"})).synced()
    outbound = template(1, recipient_time_zone=zone, recipient_id="34600000001" if zone is None else "14155550001")
    [out] = stage.send(outbound, at)
    if held_until is None:
        assert out.subject == "outbound-message"
    else:
        assert out.value["status"] == "held" and out.value["hold_until"] == held_until
        assert "quiet hours 21:00-08:00 in America/Los_Angeles" == out.value["hold_reason"]
        assert verdicts(stage.tick(held_until)) == [("approved", "out-1")]


def test_without_a_zone_the_phone_number_tells_it():
    stage = Stage(config({"quiet_hours": {"start": "21:00", "end": "08:00"}})).synced()
    [out] = stage.send(template(1, recipient_time_zone=None))   # +1 415: Los Angeles, 01:30
    assert out.value["status"] == "held" and "America/Los_Angeles" in out.value["hold_reason"]


def test_only_business_initiated_messages_count_against_tier_budget_and_quiet_hours():
    stage = Stage(config({"budget_daily": "0", "quiet_hours": {"start": "00:00", "end": "23:59"}})).synced()
    got = sum((stage.send(template(n, business_initiated=False), T0 + n) for n in range(5)), [])
    assert [v[0] for v in verdicts(got)] == ["approved"] * 5 and stage.state["recipients"] == []


@pytest.mark.parametrize("account,events,sends,expected", [
    ("U4af4980629a1b2c3d4e5f60718293a4b", [], 1, ["rejected"]),                  # monthly_quota 0
    ("U5bf5a91730b2c3d4e5f60718293a4b5c", [], 3, ["approved"] * 3),              # no quota known
    ("U5bf5a91730b2c3d4e5f60718293a4b5c", ["quota_synced"], 3, ["approved", "approved", "rejected"]),   # 198 of 200
])
def test_line_pushes_count_against_the_monthly_quota(account, events, sends, expected):
    stage = Stage()
    for name in events:
        stage.feed("account-events", record(name), T0 - HOUR)
    got = sum((stage.send(record("outbound_line_push", outbound_id=f"out-{n}", channel_account_id=account), T0 + n)
               for n in range(sends)), [])
    assert [v[0] for v in verdicts(got)] == expected
    if expected[-1] == "rejected":
        assert verdicts(got)[-1][2] == "quota.line_monthly"


def test_a_line_reply_with_its_token_is_not_counted_and_a_new_month_resets_the_count():
    stage = Stage()
    stage.feed("account-events", record("quota_synced", quota_used=200), T0 - HOUR)
    line = lambda n, at_token=None: record("outbound_line_push", outbound_id=f"out-{n}",   # noqa: E731
                                           channel_account_id="U5bf5a91730b2c3d4e5f60718293a4b5c", reply_token=at_token)
    assert verdicts(stage.send(line(1, "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"))) == [("approved", "out-1")]
    assert verdicts(stage.send(line(2)))[0][2] == "quota.line_monthly"
    assert verdicts(stage.send(line(3), T0 + 3 * DAY)) == [("approved", "out-3")]   # 1 December


def test_x_daily_cap_per_utc_day():
    stage = Stage()
    x = lambda n: record("outbound_x", outbound_id=f"out-{n}")   # noqa: E731
    got = sum((stage.send(x(n), T0 + n) for n in range(3)), [])
    assert [v[0] for v in verdicts(got)] == ["approved", "approved", "rejected"]
    assert verdicts(got)[-1][2] == "limit.x_daily_cap"
    assert verdicts(stage.send(x(4), T0 + DAY)) == [("approved", "out-4")]


def test_a_replayed_outbound_yields_nothing_and_ids_are_deterministic():
    first, second = Stage().synced(), Stage().synced()
    one = first.send(template(1, name="winter_sale", parameters=["x"]))
    assert one == second.send(template(1, name="winter_sale", parameters=["x"]))
    assert first.send(template(1, name="winter_sale", parameters=["x"]), T0 + 5) == []
