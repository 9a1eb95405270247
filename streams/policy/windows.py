"""The customer's windows on a thread, from the channel's declaration: the free-reply window (when it
closes: the reply deadline), the rule that refuses free-form replies after it, and the free entry
point window of a click-to-WhatsApp ad.

The free-reply window is `SPEC.window.standard_hours` after the customer's last message (WhatsApp's
customer service window, Messenger's standard messaging, X's reply window: 24 h); a channel without
it (LINE, Open Messaging, web) has no deadline and is open once the customer wrote.
"""
from __future__ import annotations

from types import SimpleNamespace

from channels.spec import ChannelSpec
from channels.verdicts import HOUR_MS, Rejected

# A click-to-WhatsApp ad or a Page's WhatsApp button (referral source_type ad | post) opens Meta's
# 72 h free entry point window (docs/channels/whatsapp.md#free-entry-point-window).
FREE_ENTRY_POINT = {"whatsapp": ({"ad", "post"}, 72)}
_PROBE = {"kind": "reply", "content": [{"type": "text", "text": "?"}], "template": None, "messaging_tag": None}
_PLAIN = SimpleNamespace(policy="standard", allowed_tags=(), repeat_period_hours=None)


def window_open_until(thread: dict | None, rules: ChannelSpec) -> int | None:
    """The end of the customer's free-reply window; None: never wrote, or the channel has no window."""
    hours = (rules.window or {}).get("standard_hours")
    last = thread and thread["last_inbound_at"]
    return last + int(hours * HOUR_MS) if last is not None and hours else None


def window_open(thread: dict | None, rules: ChannelSpec, now: int) -> bool:
    """Whether the customer's free-reply window is open at `now`."""
    if thread is None or thread["last_inbound_at"] is None:
        return False
    until = window_open_until(thread, rules)
    return until is None or now <= until


def closing_rule(rules: ChannelSpec) -> str | None:
    """The rule that refuses a plain reply just after the window (window.whatsapp_24h, window.messenger,
    window.x_24h): the channel's own window rule asked, for an account with no after-window policy."""
    hours = (rules.window or {}).get("standard_hours")
    if not hours:
        return None
    thread = {"unfollowed": False, "outbound_since_inbound": 0, "outbound_after_window": 0}
    verdict = rules.window_rule(_PROBE | {"channel": rules.channel}, thread, _PLAIN, rules.window,
                                int(hours * HOUR_MS) + 1)
    return verdict.rule if isinstance(verdict, Rejected) else None


def free_until(thread: dict | None, rules: ChannelSpec) -> int | None:
    """The end of the open conversation's free entry point window (its ad referral's time + 72 h)."""
    conv = thread and thread["conversation"]
    sources, hours = FREE_ENTRY_POINT.get(rules.channel, (set(), 0))
    if not conv or conv.get("referral_source") not in sources or conv.get("referral_at") is None:
        return None
    return conv["referral_at"] + hours * HOUR_MS
