"""What the account stage reads of a tenant (directory, switchboard/directory.py TenantBody): its
budgets, quiet hours and zone; and the pure rules over them: quiet hours in the recipient's zone,
a business-initiated message's estimated cost against the day's and month's spend."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from switchboard.pricing import Cost, PriceTable, cost_of

from .state import day_of, month_of


@dataclass(frozen=True)
class TenantPolicy:
    """A tenant's sending policy (None: no budget, no quiet hours)."""

    budget_daily: Decimal | None = None
    budget_monthly: Decimal | None = None
    quiet_hours: tuple[time, time] | None = None
    time_zone: str = "UTC"

    @classmethod
    def of(cls, body: dict | None) -> "TenantPolicy":
        """The policy of a directory tenant entry (None: the defaults)."""
        body = body or {}
        quiet = body.get("quiet_hours")
        return cls(_decimal(body.get("budget_daily")), _decimal(body.get("budget_monthly")),
                   (time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"])) if quiet else None,
                   body.get("time_zone") or "UTC")


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def recipient_zone(outbound: dict, tenant: TenantPolicy) -> str:
    """The recipient's zone: the thread's, else the phone number's (if one zone), else the tenant's."""
    known = outbound.get("recipient_time_zone")
    if known and _valid_zone(known):
        return known
    try:
        zones = phone_zones.time_zones_for_number(phonenumbers.parse("+" + outbound["recipient_id"].lstrip("+")))
    except phonenumbers.NumberParseException:   # a business-scoped user id, not a phone number
        zones = ()
    zones = [z for z in zones if _valid_zone(z)]
    return zones[0] if zones else tenant.time_zone


def _valid_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def quiet_until(tenant: TenantPolicy, zone: str, now: int) -> int | None:
    """When the quiet hours around `now` end in `zone` (epoch millis), None outside them."""
    if tenant.quiet_hours is None:
        return None
    start, end = tenant.quiet_hours
    local = datetime.fromtimestamp(now / 1000, ZoneInfo(zone))
    at = local.time().replace(tzinfo=None)
    if start <= end:
        inside, end_day = start <= at < end, local.date()
    else:   # across midnight, e.g. 21:00-08:00
        inside, end_day = at >= start or at < end, local.date() + timedelta(days=1 if at >= start else 0)
    if not inside:
        return None
    return int(datetime.combine(end_day, end, ZoneInfo(zone)).timestamp() * 1000)


def estimate(prices: PriceTable | None, outbound: dict, category: str | None, now: int) -> Cost | None:
    """The estimated cost of a WhatsApp template (None: not priced); free in the entry-point window."""
    if prices is None or outbound["channel"] != "whatsapp" or outbound["kind"] != "template":
        return None
    free_until = outbound.get("free_until")
    free_until = int(free_until.timestamp() * 1000) if isinstance(free_until, datetime) else free_until
    return cost_of(prices, category=category, billable=None,
                   pricing_type="free_entry_point" if free_until and free_until > now else None,
                   recipient=outbound["recipient_id"], at=datetime.fromtimestamp(now / 1000, timezone.utc),
                   in_window=not outbound.get("business_initiated"))


def spent(state: dict, now: int) -> tuple[Decimal, Decimal]:
    """(today's, this month's) spend in UTC; a past day or month counts 0."""
    day = Decimal(state["spent_day"]) if state["spend_day"] == day_of(now) else Decimal(0)
    month = Decimal(state["spent_month"]) if state["spend_month"] == month_of(now) else Decimal(0)
    return day, month


def over_budget(state: dict, tenant: TenantPolicy, cost: Cost | None, now: int) -> tuple[str, str] | None:
    """(rule, reason) when the cost would take the day's or month's spend past the tenant's budget."""
    if cost is None or not cost.amount:
        return None
    day, month = spent(state, now)
    for rule, budget, used, period in (("budget.daily", tenant.budget_daily, day, f"on {day_of(now)}"),
                                       ("budget.monthly", tenant.budget_monthly, month, f"in {month_of(now)}")):
        if budget is not None and used + cost.amount > budget:
            kind = rule.split(".")[1]
            return rule, (f"the tenant's {kind} budget of {budget} {cost.currency} would be exceeded: {used} spent "
                          f"{period} (UTC) + {cost.amount} for this message")
    return None


def add_spend(state: dict, cost: Cost | None, now: int) -> None:
    """Count an approved message's estimated cost in the day's and month's spend."""
    if cost is None:
        return
    day, month = spent(state, now)
    state.update(spend_day=day_of(now), spent_day=str(day + cost.amount), spend_month=month_of(now),
                 spent_month=str(month + cost.amount), currency=cost.currency)
