"""X (Twitter) Direct Messages, Account Activity API: docs/channels/x.md, verified-facts.md."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from .account import X_API, ChannelAccount, XApp
from .spec import ChannelSpec, Signature
from .verdicts import HOUR_MS, Approved, Rejected


class XAccount(ChannelAccount):
    """An X account receiving Direct Messages (account_id is its user id, for_user_id)."""

    _signing_secret_fields = ("consumer_secret", "previous_consumer_secret")
    _app_secret_fields = ("consumer_secret", "previous_consumer_secret")

    channel: Literal["x"]
    # The X app owning the account (its secrets sign the account's webhooks); None: the account's own.
    app: XApp | None = None
    api_base_url: str | None = X_API
    consumer_secret: SecretStr
    previous_consumer_secret: SecretStr | None = None
    access_token: SecretStr
    # No identical DM, and no link-only DM repeating a link, to the same person within this period
    # (None: the declaration's `spam.repeat_period_hours`).
    repeat_period_hours: float | None = Field(None, gt=0)
    # Direct messages this account may send per UTC day: X's documented per-user cap is 1,000 per
    # 24 h (docs/channels/x.md "Policy limits"); counted per UTC day by the account stage.
    daily_cap: int = Field(1000, gt=0)


def window_rule(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    """Replies within 24 h of the customer's last DM, at most 5 per inbound DM (X's anti-spam rule
    as Genesys enforces it)."""
    if since_ms > window["standard_hours"] * HOUR_MS:
        return Rejected("window.x_24h", "X allows replies within 24 hours of the customer's last message")
    if thread["outbound_since_inbound"] >= window["max_replies_per_inbound"]:
        return Rejected("limit.x_replies_per_inbound", f"X allows at most {window['max_replies_per_inbound']} "
                        "replies per customer message: wait for the customer to write")
    return Approved()


SPEC = ChannelSpec(
    channel="x", account=XAccount,
    content={"text": 10000, "url": True, "image": True, "sticker": False, "template": False},
    window_rule=window_rule,
    # Every DM counts against the account's daily cap.
    account_stage=lambda outbound: True,
    window={"standard_hours": 24, "max_replies_per_inbound": 5},
    # No stickers or quick replies on X DMs (docs/channels/x.md): an emoji, numbered text, a map link instead.
    fallbacks={"sticker": "emoji", "quick_reply": "numbered_text", "location": "map_link"},
    # X's policy: no repeated identical DMs, no repeated link-only DMs (docs/channels/x.md "Policy");
    # the period is ours (X names none): the 24 h of its reply window, per account `repeat_period_hours`.
    spam={"repeat_period_hours": 24},
    # x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>.
    signature=Signature("x-twitter-webhooks-signature", "base64", prefix="sha256="),
    connector="connectors.x:XConnector",
    simulator="connectors.simulators.x:X")
