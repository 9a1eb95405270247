"""WhatsApp message prices: the price table (deploy/pricing/whatsapp.yaml) and the cost of a delivered message.

Pure: `load_prices` reads and validates the file once; `status_cost` and `cost_of` compute from
their arguments only. Since 1 July 2025 WhatsApp charges per delivered template message
(pricing_model PMP) by the template's category and the recipient's market; the status webhook
names the category, not the price, so the price comes from this table (docs/channels/whatsapp.md).
What is billed at all is dated too (`rules`): from 1 October 2026 service (non-template) replies
and utility templates inside the customer service window are billed (docs/channel-policies.md
"Costs"); a message is priced by the rule and the rate in effect at its delivery.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.datafiles import load_model

PRICES_FILE = Path(__file__).resolve().parent.parent / "deploy" / "pricing" / "whatsapp.yaml"
CATEGORIES = ("marketing", "marketing_lite", "utility", "authentication", "authentication_international")
SERVICE = "service"   # a non-template message (pricing.category on the status webhook)
# Never charged: the free entry point window that a click-to-WhatsApp ad or a Page's call-to-action
# opens (still free after October 2026). Service replies are free or billed by the rule in effect.
FREE_CATEGORIES = frozenset({"referral_conversion"})
FREE_TYPES = frozenset({"free_customer_service", "free_entry_point"})
OTHER = "other"

# ITU calling code (or NANP area code) -> ISO 3166-1 alpha-2; the longest matching prefix wins.
# +1 is shared by the NANP countries: Canada by its area codes, the rest as the US.
CALLING_CODES = {
    "1": "US", **{f"1{a}": "CA" for a in (
        "204 226 236 249 250 263 289 306 343 354 365 367 368 382 403 416 418 428 431 437 438 450 468 474 "
        "506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 780 782 807 819 825 "
        "867 873 879 902 905").split()},
    "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "36": "HU", "39": "IT",
    "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE",
    "51": "PE", "52": "MX", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "60": "MY", "61": "AU", "62": "ID",
    "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR", "84": "VN", "86": "CN", "90": "TR",
    "91": "IN", "92": "PK", "234": "NG", "254": "KE", "351": "PT", "353": "IE", "358": "FI", "852": "HK",
    "886": "TW", "966": "SA", "971": "AE", "972": "IL",
}


class Rate(BaseModel):
    """One market's prices per category from a date on (a category left out is not priced)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    market: str
    effective_from: date
    currency: str | None = None          # the table's when absent
    marketing: Decimal | None = None
    marketing_lite: Decimal | None = None
    utility: Decimal | None = None
    authentication: Decimal | None = None
    authentication_international: Decimal | None = None
    service: Decimal | None = None       # a market's own service price; else the rule's (utility rate)

    @field_validator(*CATEGORIES, SERVICE, mode="before")
    @classmethod
    def _exact(cls, value):
        """0.0135 as written, not the float YAML read."""
        return Decimal(repr(value)) if isinstance(value, float) else value

    @field_validator(*CATEGORIES, SERVICE)
    @classmethod
    def _not_negative(cls, value):
        if value is not None and value < 0:
            raise ValueError("a price cannot be negative")
        return value


class Rule(BaseModel):
    """What Meta bills besides templates outside the window, from a date on (00:00 UTC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    effective_from: date
    service: Literal["free", "utility"] = "free"            # non-template replies: free, or at the utility rate
    utility_in_window: Literal["free", "billed"] = "free"   # a utility template inside the service window
    service_free_per_month: int = Field(0, ge=0)            # free service messages per number and month


# Before any rule of the file: the July 2025 terms (service and utility-in-window free).
FREE_SERVICE = Rule(effective_from=date(2025, 7, 1))


class PriceTable(BaseModel):
    """The whole file: a currency, markets with their countries, dated rates and dated billing rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    currency: str
    markets: dict[str, list[str]]
    rates: list[Rate]
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _consistent(self):
        if OTHER not in self.markets:
            raise ValueError(f"markets needs '{OTHER}' (every country not listed)")
        seen: dict[str, str] = {}
        for market, countries in self.markets.items():
            for country in countries:
                if country in seen:
                    raise ValueError(f"country {country} is in markets {seen[country]} and {market}")
                seen[country] = market
        dated = set()
        for rate in self.rates:
            if rate.market not in self.markets:
                raise ValueError(f"rate for undeclared market {rate.market!r}")
            if (rate.market, rate.effective_from) in dated:
                raise ValueError(f"two rates for {rate.market} from {rate.effective_from}")
            dated.add((rate.market, rate.effective_from))
        if len({r.effective_from for r in self.rules}) != len(self.rules):
            raise ValueError("two rules from the same date")
        return self

    def market_of(self, country: str | None) -> str:
        """The market a country is priced in (`other` when unknown)."""
        return next((m for m, countries in self.markets.items() if country in countries), OTHER)

    def rate_at(self, market: str, at: datetime) -> Rate | None:
        """The market's newest rate in effect at `at` (from 00:00 UTC of its effective date)."""
        effective = [r for r in self.rates if r.market == market and _start(r.effective_from) <= at]
        return max(effective, key=lambda r: r.effective_from, default=None)

    def rule_at(self, at: datetime) -> Rule:
        """The billing rule in effect at `at` (the July 2025 terms before the file's first)."""
        effective = [r for r in self.rules if _start(r.effective_from) <= at]
        return max(effective, key=lambda r: r.effective_from, default=FREE_SERVICE)


@dataclass(frozen=True)
class Cost:
    """What one delivered message cost, and where its recipient was priced."""

    amount: Decimal
    currency: str
    market: str
    country: str | None


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), timezone.utc)


def recipient_country(recipient: str) -> str | None:
    """ISO country of a WhatsApp id: a phone by its calling code, a business-scoped user id
    (`US.13491208655302741918`) by its prefix; None when neither tells."""
    if "." in recipient:
        prefix = recipient.split(".", 1)[0]
        return prefix.upper() if len(prefix) == 2 and prefix.isalpha() else None
    digits = recipient.lstrip("+")
    return next((CALLING_CODES[digits[:n]] for n in (4, 3, 2, 1) if digits[:n] in CALLING_CODES), None)


def cost_of(table: PriceTable, *, category: str | None, billable: bool | None, pricing_type: str | None,
            recipient: str, at: datetime, in_window: bool = False, service_used: int | None = None) -> Cost | None:
    """The cost of one delivered message; 0 when free, None when the table cannot price it.

    `billable` and `pricing_type` are the status webhook's (None for an estimate before sending);
    `in_window`: an estimate's message goes inside the customer service window; `service_used`: the
    number's service messages already sent this month (against the rule's free allowance)."""
    country = recipient_country(recipient)
    market = table.market_of(country)
    free = Cost(Decimal(0), table.currency, market, country)
    if billable is False or category in FREE_CATEGORIES or pricing_type in FREE_TYPES:
        return free
    rule, rate = table.rule_at(at), table.rate_at(market, at)
    if category == SERVICE:
        if rule.service == "free" or (service_used is not None and service_used < rule.service_free_per_month):
            return free
        price = rate.service if rate and rate.service is not None else getattr(rate, "utility", None)
    elif category == "utility" and in_window and rule.utility_in_window == "free":
        return free
    else:
        price = getattr(rate, category, None) if rate and category in CATEGORIES else None
    return Cost(price, rate.currency or table.currency, market, country) if price is not None else None


def status_cost(table: PriceTable, record: dict) -> Cost | None:
    """The cost a delivery-status record proves: WhatsApp per-message pricing, on `delivered` only
    (PMP charges on delivery; `sent` and `read` carry the same pricing and must not count again).
    Conversation-based pricing (CBP, before July 2025) charged per conversation: not priced here."""
    if record["channel"] != "whatsapp" or record["status"] != "delivered" or record.get("pricing_model") != "PMP":
        return None
    return cost_of(table, category=record.get("pricing_category"), billable=record.get("billable"),
                   pricing_type=record.get("pricing_type"), recipient=record["thread_key"].split(":", 3)[3],
                   at=record["occurred_at"])


def load_prices(path: Path) -> PriceTable:
    """The price table in `path`, validated; UserError naming the file and the mistake."""
    return load_model(PriceTable, path, "price table")


@cache
def prices() -> PriceTable:
    """The deployment's price table (PRICES_FILE), read once."""
    return load_prices(PRICES_FILE)
