"""May this outbound message go out now? One pure function over the thread state and the rules.

The rules are each channel's declaration (channels/<channel>.py, docs/channels/verified-facts.md):
what it can carry (`channels.refusals.refusal`, the same check delivery makes) and its window rule
(Messenger's 24 h / HUMAN_AGENT / 24 + 1, WhatsApp's 24 h customer service window, X's 24 h and
5 replies per inbound DM, LINE's unfollow). Every channel: never an unsolicited message (nothing
inbound ever on the thread), except an approved template where the channel has templates (WhatsApp).
"""
from __future__ import annotations

from channels.refusals import refusal
from channels.spec import ChannelSpec
from channels.verdicts import Approved, Rejected

__all__ = ["Approved", "Rejected", "decide"]


def decide(outbound: dict, thread: dict | None, account, rules: ChannelSpec, now: int) -> Approved | Rejected:
    """The policy's verdict on `outbound` at `now` (epoch millis) for the thread's state."""
    if account is None:
        return Rejected("account.unknown", f"no enabled {outbound['channel']} account {outbound['channel_account_id']}")
    refused = refusal(rules, outbound)
    if refused:
        return Rejected(*refused)
    templates = bool(rules.content.get("template"))
    if templates and _is_template(outbound):
        return Approved()   # templates are WhatsApp's way to (re)open a conversation
    last_inbound = thread and thread["last_inbound_at"]
    if last_inbound is None:
        return Rejected("window.unsolicited", "the customer has never written on this thread: "
                        "we may not start the conversation" + (" (use an approved template)" if templates else ""))
    # Hook: WhatsApp messaging-limit tiers (business-initiated conversations per 24 h, channels/
    # whatsapp.py `messaging_limit_tiers`) belong here as one more check once they are counted.
    return rules.window_rule(outbound, thread, account, rules.window, now - last_inbound)


def _is_template(outbound: dict) -> bool:
    return outbound["kind"] == "template" and outbound.get("template") is not None
