"""WhatsApp Business Cloud API: docs/channels/whatsapp.md, verified-facts.md."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from .account import GRAPH_API, ChannelAccount, MetaApp
from .spec import ChannelSpec, Signature
from .verdicts import HOUR_MS, Approved, Rejected


class WhatsAppAccount(ChannelAccount):
    """A WhatsApp Business phone number (account_id is its phone_number_id)."""

    _signing_secret_fields = ("app_secret", "previous_app_secret")
    _app_secret_fields = ("app_secret", "previous_app_secret", "verify_token")

    channel: Literal["whatsapp"]
    # The Meta app owning the account (its secrets sign the account's webhooks); None: the account's own.
    app: MetaApp | None = None
    api_base_url: str | None = GRAPH_API
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr
    access_token: SecretStr
    display_phone_number: str | None = None
    waba_id: str | None = None
    # The business portfolio's messaging-limit tier until a quality webhook (account event) says
    # otherwise. Its limit (unique customers per rolling 24 h) has one source: the dated ladder
    # deploy/policy/whatsapp-tiers.yaml (streams/accounts/tiers.py).
    messaging_limit_tier: str = Field("TIER_250", pattern=r"^TIER_[0-9A-Z]+$")
    # Messages per second the number may send (Cloud API default 80; 1,000 after an upgrade): the
    # account stage holds the rest and releases them on its next ticks, in order.
    throughput_per_second: int = Field(80, gt=0)


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
    # Every message: templates against the catalogue; the tier, throughput, quiet hours and budgets.
    account_stage=lambda outbound: True,
    window={"standard_hours": 24, "template_outside_window": True},
    fallbacks={"quick_reply": "numbered_text", "location": "map_link"},
    # Meta's X-Hub-Signature-256, as Messenger: sha256=<hex HMAC-SHA256(app secret, raw body)>.
    signature=Signature("X-Hub-Signature-256", "hex", prefix="sha256="),
    connector="connectors.whatsapp:WhatsAppConnector",
    simulator="connectors.simulators.whatsapp:WhatsApp")
