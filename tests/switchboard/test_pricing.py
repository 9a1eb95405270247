"""WhatsApp prices: the table validated, a delivered message costed by category, market, date and billing rule."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from switchboard.errors import UserError
from switchboard.pricing import PRICES_FILE, Cost, cost_of, load_prices, recipient_country, status_cost

TABLE = load_prices(Path(__file__).resolve().parents[1] / "fixtures" / "pricing" / "whatsapp.yaml")
NEW_YEAR = datetime(2026, 1, 1, tzinfo=timezone.utc)
OCTOBER = datetime(2026, 10, 1, tzinfo=timezone.utc)   # service and utility-in-window billed from here
MS = timedelta(milliseconds=1)


def cost(category="marketing", recipient="14155550123", at=NEW_YEAR, billable=True, pricing_type="regular", **more):
    return cost_of(TABLE, category=category, billable=billable, pricing_type=pricing_type, recipient=recipient,
                   at=at, **more)


def amount(**kwargs):
    found = cost(**kwargs)
    return found.amount if found else None


@pytest.mark.parametrize("at,price", [
    (datetime(2025, 7, 1, tzinfo=timezone.utc) - MS, None),          # before the first rate: not priced
    (datetime(2025, 7, 1, tzinfo=timezone.utc), Decimal("0.0250")),
    (NEW_YEAR - MS, Decimal("0.0250")),                             # 23:59:59.999 on 31 December: the old rate
    (NEW_YEAR, Decimal("0.0275")),                                  # 00:00 UTC on the effective date: the new one
    (NEW_YEAR + timedelta(days=300), Decimal("0.0275")),
])
def test_the_rate_in_effect_at_the_delivery_prices_it(at, price):
    found = cost(at=at)
    assert (found.amount if found else None) == price


def test_the_market_comes_from_the_calling_code_or_the_business_scoped_id():
    assert cost("utility", "5511987654321") == Cost(Decimal("0.0080"), "USD", "brazil", "BR")
    assert cost("utility", "14165550123") == Cost(Decimal("0.0034"), "USD", "north_america", "CA")  # Toronto
    assert cost("utility", "US.13491208655302741918") == Cost(Decimal("0.0034"), "USD", "north_america", "US")
    assert cost("utility", "2348031234567") == Cost(Decimal("0.0077"), "USD", "other", "NG")  # not listed here
    assert cost("utility", "919876543210").currency == "INR"   # a rate's own currency
    assert recipient_country("99912345") is None and recipient_country("1.5") is None
    assert recipient_country("BR.ENT.5533") == "BR"   # a parent BSUID


@pytest.mark.parametrize("category,billable,pricing_type", [
    ("service", False, "free_customer_service"),        # a reply inside the 24 h window
    ("referral_conversion", False, "free_entry_point"),  # the 72 h free entry point window (an ad)
    ("utility", False, "free_customer_service"),        # a utility template inside the window
    ("marketing", True, "free_entry_point"),            # the type alone says free
    ("service", None, None),
])
def test_free_messages_cost_zero(category, billable, pricing_type):
    assert cost(category, billable=billable, pricing_type=pricing_type).amount == 0


def test_a_category_without_a_price_is_not_priced_rather_than_free():
    assert cost("authentication", "5511987654321") is None    # brazil lists none
    assert cost("unheard_of") is None


# (what the webhook or the estimate says, when) -> price. North America's utility rate is 0.0034 from
# 2026; Brazil has its own service price (0.0070) from October 2026; meta_business_agent is per token.
@pytest.mark.parametrize("kwargs,price", [
    ({"category": "service", "at": OCTOBER - MS}, Decimal(0)),                                   # 30 September: free
    ({"category": "service", "at": OCTOBER}, Decimal("0.0034")),                                 # at the utility rate
    ({"category": "service", "at": OCTOBER, "billable": None, "pricing_type": None}, Decimal("0.0034")),  # estimate
    ({"category": "service", "at": OCTOBER, "recipient": "5511987654321"}, Decimal("0.0070")),  # the market's own
    ({"category": "service", "at": OCTOBER, "billable": False, "pricing_type": "free_customer_service"}, Decimal(0)),
    ({"category": "service", "at": OCTOBER, "pricing_type": "free_entry_point"}, Decimal(0)),    # ads: still free
    ({"category": "referral_conversion", "at": OCTOBER}, Decimal(0)),
    ({"category": "service", "at": OCTOBER, "service_used": 999}, Decimal(0)),                  # the allowance
    ({"category": "service", "at": OCTOBER, "service_used": 1000}, Decimal("0.0034")),          # spent
    ({"category": "service", "at": OCTOBER - MS, "service_used": 5000}, Decimal(0)),
    ({"category": "utility", "at": OCTOBER - MS, "billable": None, "pricing_type": None, "in_window": True}, Decimal(0)),
    ({"category": "utility", "at": OCTOBER, "billable": None, "pricing_type": None, "in_window": True}, Decimal("0.0034")),
    ({"category": "utility", "at": OCTOBER - MS, "billable": None, "pricing_type": None}, Decimal("0.0034")),
    ({"category": "meta_business_agent", "at": OCTOBER}, None),
])
def test_the_billing_rule_in_effect_at_the_delivery_decides_whether_service_and_in_window_utility_cost(kwargs, price):
    assert amount(**kwargs) == price


def test_a_delivered_service_status_after_october_2026_is_priced():
    service = status(pricing_category="service", occurred_at=OCTOBER + timedelta(days=3))
    assert status_cost(TABLE, service).amount == Decimal("0.0070")                       # Brazil's service price
    assert status_cost(TABLE, service | {"occurred_at": OCTOBER - MS}).amount == 0
    assert status_cost(TABLE, service | {"billable": False, "pricing_type": "free_customer_service"}).amount == 0


def test_the_shipped_rules_bill_service_at_the_utility_rate_from_october_2026_with_no_allowance():
    table = load_prices(PRICES_FILE)
    assert (table.rule_at(OCTOBER - MS).service, table.rule_at(OCTOBER).service) == ("free", "utility")
    assert table.rule_at(OCTOBER).utility_in_window == "billed" and table.rule_at(OCTOBER).service_free_per_month == 0
    price = cost_of(table, category="service", billable=True, pricing_type="regular", recipient="5511987654321", at=OCTOBER)
    assert price.amount == table.rate_at("brazil", OCTOBER).utility
    assert table.rule_at(datetime(2025, 1, 1, tzinfo=timezone.utc)).service == "free"   # before the file's first rule


def status(**fields):
    return {"channel": "whatsapp", "status": "delivered", "thread_key": "acme:whatsapp:109876543210987:5511987654321",
            "occurred_at": NEW_YEAR, "pricing_model": "PMP", "pricing_category": "marketing", "billable": True,
            "pricing_type": "regular"} | fields


def test_only_a_delivered_per_message_status_carries_the_cost():
    assert status_cost(TABLE, status()).amount == Decimal("0.0625")
    assert status_cost(TABLE, status(status="sent")) is None and status_cost(TABLE, status(status="read")) is None
    assert status_cost(TABLE, status(pricing_model="CBP")) is None        # charged per conversation
    assert status_cost(TABLE, status(pricing_model=None)) is None         # no pricing on the webhook
    assert status_cost(TABLE, status(channel="messenger")) is None


def test_the_shipped_table_loads_and_prices_every_market():
    table = load_prices(PRICES_FILE)
    assert {r.market for r in table.rates} == set(table.markets)
    assert table.market_of("NO") == "rest_of_western_europe"   # quoted in the file: YAML reads NO as false


@pytest.mark.parametrize("text,message", [
    ("currency: USD\nmarkets: {us: [US]}\nrates: []", "'other'"),
    ("currency: USD\nmarkets: {other: []}\nrates: [{market: mars, effective_from: 2025-07-01}]", "undeclared market 'mars'"),
    ("currency: USD\nmarkets: {a: [US], other: [US]}\nrates: []", "country US is in markets a and other"),
    ("currency: USD\nmarkets: {other: []}\nrates: [{market: other, effective_from: 2025-07-01, utility: -1}]",
     "rates.0.utility: Value error, a price cannot be negative"),
    ("currency: USD\nmarkets: {other: []}\nrates: [{market: other, effective_from: 2025-07-01, utlity: 1}]", "rates.0.utlity"),
])
def test_a_mistake_in_the_table_is_one_line_naming_it(tmp_path, text, message):
    path = tmp_path / "whatsapp.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match="fix the file") as error:
        load_prices(path)
    assert message in str(error.value) and "\n" not in str(error.value)
