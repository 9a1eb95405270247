"""Opt-in, opt-out and business-initiated messages: pure rules over the thread state.

A message is **business-initiated** when the thread has no open free-reply window at the policy's
clock: the customer never wrote, or the channel's standard window (`SPEC.window.standard_hours`,
WhatsApp / Messenger / X: 24 h after the customer's last message) has closed. Channels without a
window (LINE, Open Messaging, web) are open once the customer wrote. A reply the channel's own rule
lets through after the window (Messenger's HUMAN_AGENT tag, 24 + 1) answers the customer: not
business-initiated, but still outside the window.

- WhatsApp: a business-initiated message is an approved template (the window rule refuses anything
  else), and only to a customer who opted in and did not opt out since (`optin.required`,
  `optin.opted_out`): Meta's Business Messaging Policy (docs/channels/whatsapp.md, "Opt-in").
- Every channel: a customer who opted out gets nothing outside the open window and no
  `notification`-kind message at all (`optin.opted_out`); replies inside the window still go.
"""
from __future__ import annotations

from channels.spec import ChannelSpec
from channels.verdicts import Rejected

from .windows import window_open

HOW_TO_OPT_IN = "record the customer's opt-in first (POST /api/v1/consents, action opt_in)"


def opted_in(thread: dict | None) -> bool:
    """The customer opted in and has not opted out since."""
    consent = (thread or {}).get("consent") or {}
    return consent.get("opted_in_at") is not None and not opted_out(thread)


def opted_out(thread: dict | None) -> bool:
    """The customer's newest consent fact is an opt-out."""
    consent = (thread or {}).get("consent") or {}
    out, in_ = consent.get("opted_out_at"), consent.get("opted_in_at")
    return out is not None and (in_ is None or out >= in_)


def check(outbound: dict, thread: dict | None, rules: ChannelSpec, now: int) -> Rejected | None:
    """`optin.opted_out` / `optin.required` when consent forbids `outbound` at `now`; None when it may go."""
    open_ = window_open(thread, rules, now)
    if opted_out(thread) and (not open_ or outbound.get("kind") == "notification"):
        what = "notifications" if open_ else "messages outside the open reply window"
        return Rejected("optin.opted_out", f"the customer opted out: no {what} until they opt in again "
                        "(they write an opt-in keyword such as START, or POST /api/v1/consents action opt_in)")
    if rules.channel == "whatsapp" and not open_ and not opted_in(thread):
        return Rejected("optin.required", "WhatsApp allows business-initiated templates only to customers who "
                        f"opted in: {HOW_TO_OPT_IN}")
    return None


def apply(thread: dict, action: str, at: int, source: str) -> bool:
    """Record an opt-in or opt-out at `at` on the thread (the newest of each wins); True if it changed."""
    consent = thread.get("consent") or {"opted_in_at": None, "opted_in_source": None,
                                        "opted_out_at": None, "opted_out_source": None}
    side = "opted_in" if action == "opt_in" else "opted_out"
    if consent[f"{side}_at"] is not None and consent[f"{side}_at"] >= at:
        return False
    thread["consent"] = {**consent, f"{side}_at": at, f"{side}_source": source}
    return True
