"""The account stage's verdict on one outbound message: approve, hold (with why and until when)
or reject — a pure function of the portfolio's state, the message, its context and the clock.

Order (docs/channel-policies.md): every WhatsApp template against the catalogue; a message behind
an earlier held one of its thread, or of the same queue, waits its turn; business-initiated
WhatsApp messages against the tenant's budget, quiet hours and the portfolio's messaging-limit
tier; every WhatsApp message against its number's throughput; a LINE push against the monthly
quota; every X message against the account's daily cap. `admit` then counts an approval.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from channels.verdicts import Rejected
from switchboard.pricing import Cost, PriceTable

from . import templates
from .state import DAY_MS, day_of, entry, live_recipients, month_of
from .tenants import TenantPolicy, add_spend, estimate, over_budget, quiet_until, recipient_zone
from .tiers import Ladders

MAX_HELD = 10_000   # per portfolio: beyond, refuse rather than grow the state without bound


@dataclass(frozen=True)
class Context:
    """What a verdict needs besides the state: the message's account, its tenant's policy, the
    tier ladders and the price table."""

    account: object | None
    tenant: TenantPolicy
    ladders: Ladders
    prices: PriceTable | None = None


@dataclass(frozen=True)
class Verdict:
    """approve (with the catalogue's category and the estimated cost), hold or reject."""

    action: str                    # approve | hold | reject
    rule: str | None = None        # reject: the rule; hold: tier | throughput | quiet_hours | queued
    reason: str | None = None
    hold_until: int | None = None
    category: str | None = None
    cost: Cost | None = field(default=None, compare=False)


def hold(kind: str, reason: str, until: int | None) -> Verdict:
    return Verdict("hold", kind, reason, until)


def verdict(state: dict, outbound: dict, ctx: Context, now: int, ahead: list[dict] | None = None) -> Verdict:
    """The verdict on `outbound` at `now`; `ahead`: the held messages before it (default: all)."""
    ahead = state["held"] if ahead is None else ahead
    account = ctx.account
    if account is None:
        return Verdict("reject", "account.unknown", f"no enabled {outbound['channel']} account "
                                                    f"{outbound['channel_account_id']}")
    if outbound["channel"] == "line":
        return _line(state, outbound, account, now)
    if outbound["channel"] == "x":
        return _x(state, outbound, account, now)
    if outbound["channel"] != "whatsapp":
        return Verdict("approve")
    return _whatsapp(state, outbound, ctx, now, ahead)


def _whatsapp(state: dict, outbound: dict, ctx: Context, now: int, ahead: list[dict]) -> Verdict:
    category = None
    if outbound["kind"] == "template" and outbound.get("template"):
        found = templates.check(state, outbound, ctx.account)
        if isinstance(found, Rejected):
            return Verdict("reject", found.rule, found.reason)
        category = found["category"].lower()
    elif _past_window(outbound, now):
        return Verdict("reject", "window.whatsapp_24h", "held past the 24 h customer service window: "
                                                        "only an approved template may be sent now")
    earlier = next((h for h in ahead if h["thread_key"] == outbound["thread_key"]), None)
    if earlier is not None:
        return hold("queued", f"after {earlier['outbound_id']}, held before it ({earlier['hold_reason']})",
                    earlier["hold_until"])
    cost = estimate(ctx.prices, outbound, category, now)
    if outbound.get("business_initiated"):
        gate = _business_initiated(state, outbound, ctx, now, ahead, cost)
        if gate is not None:
            return gate
    return _throughput(state, outbound, ctx.account, now, ahead) or Verdict("approve", category=category, cost=cost)


def _business_initiated(state, outbound, ctx: Context, now: int, ahead, cost) -> Verdict | None:
    refused = over_budget(state, ctx.tenant, cost, now)
    if refused:
        return Verdict("reject", *refused)
    zone = recipient_zone(outbound, ctx.tenant)
    until = quiet_until(ctx.tenant, zone, now)
    if until is not None:
        start, end = (t.strftime("%H:%M") for t in ctx.tenant.quiet_hours)
        return hold("quiet_hours", f"quiet hours {start}-{end} in {zone}", until)
    return _tier(state, outbound, ctx, now, ahead)


def _tier(state: dict, outbound: dict, ctx: Context, now: int, ahead: list[dict]) -> Verdict | None:
    counted = live_recipients(state, now)
    if any(r["recipient"] == outbound["recipient_id"] for r in counted):
        return None   # a customer already counted in the 24 h does not count again
    tier = effective_tier(state, ctx.account)
    limit = ctx.ladders.limit(tier, now)
    if limit is None:
        return None
    queued = any(h["rule"] == "tier" for h in ahead)   # new customers go in the order they came
    if len(counted) < limit and not queued:
        return None
    oldest = min((r["counted_at"] for r in counted), default=None)
    return hold("tier", f"tier {tier}: {limit:,} unique customers in 24 h",
                oldest + DAY_MS if oldest is not None and len(counted) >= limit else None)


def effective_tier(state: dict, account=None) -> str | None:
    """The platform's last word on the tier, else the account's configured one."""
    return state["tier"] or (getattr(account, "messaging_limit_tier", None) if account else None) \
        or state["configured_tier"]


def _throughput(state: dict, outbound: dict, account, now: int, ahead: list[dict]) -> Verdict | None:
    number, second = outbound["channel_account_id"], now // 1000
    pace = next((p for p in state["pace"] if p["channel_account_id"] == number), None)
    used = pace["count"] if pace and pace["second"] == second else 0
    queued = any(h["rule"] == "throughput" and h["channel_account_id"] == number for h in ahead)
    if used < account.throughput_per_second and not queued:
        return None
    return hold("throughput", f"throughput: {account.throughput_per_second} messages per second from "
                              f"number {number}", (second + 1) * 1000)


def _past_window(outbound: dict, now: int) -> bool:
    until = outbound.get("window_open_until")
    until = int(until.timestamp() * 1000) if isinstance(until, datetime) else until
    return until is not None and now > until


def _line(state: dict, outbound: dict, account, now: int) -> Verdict:
    if outbound.get("reply_token"):
        return Verdict("approve")   # a reply with its token is free and not counted
    quota = entry(state["line"], account.account_id, **LINE_DEFAULTS)
    limit = account.monthly_quota if account.monthly_quota is not None else quota["synced_limit"]
    used = line_used(quota, now)
    if limit is not None and used >= limit:
        return Verdict("reject", "quota.line_monthly", f"the LINE push quota of {limit} messages for "
                                                       f"{month_of(now)} is used up ({used} sent)")
    return Verdict("approve")


LINE_DEFAULTS = {"configured_limit": None, "synced_limit": None, "synced_used": None, "synced_at": None,
                 "month": "", "pushed": 0}


def line_used(quota: dict, now: int) -> int:
    """Pushes used this UTC month: the platform's count at its last sync plus ours since."""
    month = month_of(now)
    synced = (quota["synced_used"] or 0) if quota["synced_at"] and month_of(quota["synced_at"]) == month else 0
    return synced + (quota["pushed"] if quota["month"] == month else 0)


def _x(state: dict, outbound: dict, account, now: int) -> Verdict:
    daily = entry(state["x"], account.account_id, cap=account.daily_cap, day="", sent=0)
    sent = daily["sent"] if daily["day"] == day_of(now) else 0
    if sent >= account.daily_cap:
        return Verdict("reject", "limit.x_daily_cap", f"X account {account.account_id} reached its cap of "
                                                      f"{account.daily_cap} messages on {day_of(now)} (UTC)")
    return Verdict("approve")


def admit(state: dict, outbound: dict, ctx: Context, approved: Verdict, now: int) -> None:
    """Count an approved message: recipient (tier), pacing, spend, LINE pushes, X day."""
    account, channel = ctx.account, outbound["channel"]
    if channel == "whatsapp":
        state["configured_tier"] = account.messaging_limit_tier
        if outbound.get("business_initiated") and not any(
                r["recipient"] == outbound["recipient_id"] for r in live_recipients(state, now)):
            state["recipients"].append({"recipient": outbound["recipient_id"], "counted_at": now})
        pace = entry(state["pace"], account.account_id, second=now // 1000, count=0)
        pace["count"] = pace["count"] + 1 if pace["second"] == now // 1000 else 1
        pace["second"] = now // 1000
        add_spend(state, approved.cost, now)
    elif channel == "line" and not outbound.get("reply_token"):
        quota = entry(state["line"], account.account_id, **LINE_DEFAULTS)
        quota["pushed"] = (quota["pushed"] if quota["month"] == month_of(now) else 0) + 1
        quota["month"], quota["configured_limit"] = month_of(now), account.monthly_quota
    elif channel == "x":
        daily = entry(state["x"], account.account_id, cap=account.daily_cap, day="", sent=0)
        daily["sent"] = (daily["sent"] if daily["day"] == day_of(now) else 0) + 1
        daily["day"], daily["cap"] = day_of(now), account.daily_cap
