"""Open Messaging, bring-your-own channel (our normalized JSON API): docs/channels/open-messaging.md."""
from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from .account import ChannelAccount
from .spec import ChannelSpec, Signature
from .verdicts import no_window


class OpenAccount(ChannelAccount):
    """An Open Messaging integration: any channel speaking our normalized JSON API."""

    _signing_secret_fields = ("secret", "previous_secret")

    channel: Literal["open"]
    secret: SecretStr
    previous_secret: SecretStr | None = None
    outbound_url: str
    outbound_secret: SecretStr


SPEC = ChannelSpec(
    channel="open", account=OpenAccount,
    content={"text": 20000, "url": True, "image": True, "sticker": False, "template": False},
    window_rule=no_window,
    fallbacks={"sticker": "emoji", "quick_reply": "numbered_text", "location": "map_link"},
    # X-Hub-Signature-256: sha256=<base64 HMAC-SHA256(integration secret, raw body)> (base64, unlike Meta's hex).
    signature=Signature("X-Hub-Signature-256", "base64", prefix="sha256="),
    connector="connectors.open:OpenConnector",
    simulator="connectors.simulators.open_messaging:OpenMessaging")
