"""Facebook Messenger (Page webhooks, Send API): docs/channels/messenger.md, verified-facts.md."""
from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from .account import GRAPH_API, ChannelAccount, MetaApp
from .spec import ChannelSpec, Signature
from .verdicts import HOUR_MS, Approved, Rejected


class MessengerAccount(ChannelAccount):
    """A Facebook Page."""

    _signing_secret_fields = ("app_secret", "previous_app_secret")
    _app_secret_fields = ("app_secret", "previous_app_secret", "verify_token")

    channel: Literal["messenger"]
    # The Meta app owning the account (its secrets sign the account's webhooks); None: the account's own.
    app: MetaApp | None = None
    api_base_url: str | None = GRAPH_API
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr
    access_token: SecretStr
    # What may be sent after the 24 h standard window, per Page (docs/channel-policies.md):
    # standard: nothing; human_agent: a human agent's reply with the HUMAN_AGENT tag up to 7 days;
    # "24+1": the older policy's one more message.
    policy: Literal["standard", "24+1", "human_agent"] = "human_agent"
    # Message tags this Page may send (Send API `tag`); any other is refused (`window.messenger_tag`).
    # Tags beyond HUMAN_AGENT (e.g. ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE) are
    # for their declared use cases only: list them when the Page has one.
    allowed_tags: tuple[str, ...] = ("HUMAN_AGENT",)


def window_rule(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    """Standard messaging within 24 h of the person's last message; the HUMAN_AGENT tag lets a human
    agent reply up to 7 days after it; the older "24 + 1" policy allows one more message. The
    account's `policy` chooses; a tag the message asks for must be one of the account's `allowed_tags`
    (an allowed tag other than HUMAN_AGENT may go after the window: its use case is the Page's)."""
    tag = outbound.get("messaging_tag")
    if tag and tag not in account.allowed_tags:
        return Rejected("window.messenger_tag", f"the message tag {tag} is not allowed on this Page (allowed: "
                        f"{', '.join(account.allowed_tags) or 'none'}; the account's allowed_tags)")
    if since_ms <= window["standard_hours"] * HOUR_MS:
        return Approved(messaging_tag=tag)
    if tag and tag != "HUMAN_AGENT":
        return Approved(messaging_tag=tag, after_window=True)
    if account.policy == "human_agent" and "HUMAN_AGENT" in account.allowed_tags \
            and since_ms <= window["human_agent_hours"] * HOUR_MS:
        return Approved(messaging_tag="HUMAN_AGENT", after_window=True)
    if account.policy == "24+1" and thread["outbound_after_window"] < window["plus_one_after_window"]:
        return Approved(after_window=True)
    allowed = {"human_agent": "7 days with the HUMAN_AGENT tag", "24+1": "24 hours plus one message"}
    return Rejected("window.messenger", f"Messenger allows replies within "
                    f"{allowed.get(account.policy, '24 hours')} of the customer's last message")


SPEC = ChannelSpec(
    channel="messenger", account=MessengerAccount,
    # Quick replies ride on a text (Send API `quick_replies`); stickers by id since the 2026 Sticker API.
    content={"text": 2000, "url": True, "image": True, "sticker": True, "quick_reply": True, "template": False},
    window_rule=window_rule,
    window={"standard_hours": 24, "human_agent_hours": 168, "plus_one_after_window": 1},
    fallbacks={"location": "map_link"},
    # X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>.
    signature=Signature("X-Hub-Signature-256", "hex", prefix="sha256="),
    connector="connectors.messenger:MessengerConnector",
    simulator="connectors.simulators.messenger:Messenger")
