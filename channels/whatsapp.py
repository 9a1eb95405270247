"""WhatsApp Business Cloud API: docs/channels/whatsapp.md, verified-facts.md."""
from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from .account import ChannelAccount
from .spec import ChannelSpec, Signature
from .verdicts import HOUR_MS, Approved, Rejected


class WhatsAppAccount(ChannelAccount):
    """A WhatsApp Business phone number (account_id is its phone_number_id)."""

    _signing_secret_fields = ("app_secret", "previous_app_secret")

    channel: Literal["whatsapp"]
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr
    access_token: SecretStr
    display_phone_number: str | None = None
    waba_id: str | None = None
    messaging_limit_tier: str = "TIER_250"


def window_rule(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    """Free-form only inside the 24 h customer service window, which each customer message reopens
    (error 131047 "Re-engagement message" is what the API answers outside it)."""
    if since_ms <= window["standard_hours"] * HOUR_MS:
        return Approved()
    return Rejected("window.whatsapp_24h", "the 24 h customer service window is closed: "
                    "only an approved template may be sent")


SPEC = ChannelSpec(
    channel="whatsapp", account=WhatsAppAccount,
    # Templates: approved ones only; the policy lets them (re)open a conversation outside the window.
    content={"text": 4096, "url": True, "image": True, "sticker": True, "template": True},
    window_rule=window_rule,
    window={"standard_hours": 24, "template_outside_window": True},
    fallbacks={"quick_reply": "numbered_text", "location": "map_link"},
    # Meta's X-Hub-Signature-256, as Messenger: sha256=<hex HMAC-SHA256(app secret, raw body)>.
    signature=Signature("X-Hub-Signature-256", "hex", prefix="sha256="),
    connector="connectors.whatsapp:WhatsAppConnector",
    simulator="connectors.simulators.whatsapp:WhatsApp",
    # Business-initiated unique customers per rolling 24 h, by messaging limit tier (shared by the
    # business portfolio since Oct 2025). The seed's older ladder was 1K / 10K / 100K.
    extra={"messaging_limit_tiers": {"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000,
                                     "TIER_100K": 100000, "TIER_UNLIMITED": None}})
