"""May this outbound message go out now? One pure function over the thread state and the rules.

Sources (docs/channels/verified-facts.md, schemas/channels.yaml):
- Messenger: standard messaging within 24 h of the person's last message; the HUMAN_AGENT tag lets
  a human agent reply up to 7 days after it; the older "24 + 1" policy allows one more message.
- WhatsApp: free-form only inside the 24 h customer service window; approved templates otherwise
  (error 131047 "Re-engagement message" is what the API answers outside it).
- X: at most 5 replies per inbound Direct Message within 24 h.
- LINE: push messages reach only users who follow the account (unfollow = blocked).
- Every channel: never an unsolicited message (nothing inbound ever on the thread), except an
  approved WhatsApp template.
"""
from __future__ import annotations

from dataclasses import dataclass

from schemas.channels import ChannelRules

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Approved:
    """The message may go; `messaging_tag` is set on it when the window needs one (HUMAN_AGENT)."""

    messaging_tag: str | None = None
    after_window: bool = False


@dataclass(frozen=True)
class Rejected:
    """The message may not go: machine-readable rule and a reason an agent can read."""

    rule: str
    reason: str


def decide(outbound: dict, thread: dict | None, account, rules: ChannelRules, now: int) -> Approved | Rejected:
    """The policy's verdict on `outbound` at `now` (epoch millis) for the thread's state."""
    if account is None:
        return Rejected("account.unknown", f"no enabled {outbound['channel']} account {outbound['channel_account_id']}")
    refusal = _content(outbound, rules)
    if refusal:
        return refusal
    if _is_template(outbound) and rules.channel == "whatsapp":
        return Approved()   # templates are WhatsApp's way to (re)open a conversation
    last_inbound = thread and thread["last_inbound_at"]
    if last_inbound is None:
        return Rejected("window.unsolicited", "the customer has never written on this thread: "
                        "we may not start the conversation" + (" (use an approved template)" if rules.channel == "whatsapp" else ""))
    check = WINDOW_CHECKS.get(rules.channel)
    # Hook: WhatsApp messaging-limit tiers (business-initiated conversations per 24 h, schemas/
    # channels.yaml `messaging_limit_tiers`) belong here as one more check once they are counted.
    return check(outbound, thread, account, rules.window, now - last_inbound) if check else Approved()


def _is_template(outbound: dict) -> bool:
    return outbound["kind"] == "template" and outbound.get("template") is not None


def _content(outbound: dict, rules: ChannelRules) -> Rejected | None:
    if outbound["kind"] == "template" and not _is_template(outbound):
        return Rejected("capability.template", "a template message needs its template (name, language)")
    if _is_template(outbound) and not rules.content.get("template"):
        return Rejected("capability.template", f"{rules.channel} has no message templates")
    for item in outbound["content"]:
        refusal = rules.refusal(item["type"], item.get("text"))
        if refusal:
            rule = "limit.text_length" if item["type"] == "text" else f"capability.{item['type']}"
            return Rejected(rule, refusal)
    return None


def _messenger(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    if since_ms <= window["standard_hours"] * HOUR_MS:
        return Approved()
    if account.policy == "human_agent" and since_ms <= window["human_agent_hours"] * HOUR_MS:
        return Approved(messaging_tag="HUMAN_AGENT", after_window=True)
    if account.policy == "24+1" and thread["outbound_after_window"] < window["plus_one_after_window"]:
        return Approved(after_window=True)
    allowed = {"human_agent": "7 days with the HUMAN_AGENT tag", "24+1": "24 hours plus one message"}
    return Rejected("window.messenger", f"Messenger allows replies within "
                    f"{allowed.get(account.policy, '24 hours')} of the customer's last message")


def _whatsapp(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    if since_ms <= window["standard_hours"] * HOUR_MS:
        return Approved()
    return Rejected("window.whatsapp_24h", "the 24 h customer service window is closed: "
                    "only an approved template may be sent")


def _x(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    if since_ms > window["standard_hours"] * HOUR_MS:
        return Rejected("window.x_24h", "X allows replies within 24 hours of the customer's last message")
    if thread["outbound_since_inbound"] >= window["max_replies_per_inbound"]:
        return Rejected("limit.x_replies_per_inbound", f"X allows at most {window['max_replies_per_inbound']} "
                        "replies per customer message: wait for the customer to write")
    return Approved()


def _line(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    if thread["unfollowed"]:
        return Rejected("window.line_unfollowed", "the user unfollowed (blocked) the LINE account: "
                        "push messages no longer reach them")
    return Approved()


WINDOW_CHECKS = {"messenger": _messenger, "whatsapp": _whatsapp, "x": _x, "line": _line}
