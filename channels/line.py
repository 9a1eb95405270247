"""LINE Messaging API: docs/channels/line.md, verified-facts.md."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from .account import ChannelAccount
from .spec import ChannelSpec, Signature
from .verdicts import Approved, Rejected

# The Messaging API, the accounts' default api_base_url (docs/channels/line.md): sends and quota.
# Content (media bytes) is served by the data API (connectors/media/fetch.py derives it from this
# host). Outside loopback only with SWITCHBOARD_ALLOW_OUTSIDE_TARGETS (connectors/sending.py).
LINE_API = "https://api.line.me"
LINE_DATA_API = "https://api-data.line.me"

class LineAccount(ChannelAccount):
    """A LINE Official Account channel (account_id is the bot's user id, the webhook destination)."""

    _signing_secret_fields = ("channel_secret", "previous_channel_secret")

    channel: Literal["line"]
    channel_secret: SecretStr
    previous_channel_secret: SecretStr | None = None
    access_token: SecretStr
    api_base_url: str | None = LINE_API
    # Group and room chats are not one-to-one conversations: their events are counted and ignored
    # unless enabled; then each group or room is one thread, its speakers the senders.
    groups: bool = False
    # The Official Account's basic id (e.g. "@123abcde"): its add-friend link (switchboard admin entry-point link).
    basic_id: str | None = Field(None, pattern=r"^@[0-9a-z._-]+$")
    # Push messages per calendar month (the plan's free messages or a cap set in LINE Official
    # Account Manager). None: the quota the platform's quota API reports (account events
    # quota_synced); no quota known at all: pushes are not limited here.
    monthly_quota: int | None = Field(None, ge=0)


def window_rule(outbound, thread, account, window, since_ms) -> Approved | Rejected:
    """No time window (push reaches followers; replies are free within the reply token's minute),
    but push messages reach only users who follow the account: unfollow = blocked."""
    if thread["unfollowed"]:
        return Rejected("window.line_unfollowed", "the user unfollowed (blocked) the LINE account: "
                        "push messages no longer reach them")
    return Approved()


SPEC = ChannelSpec(
    channel="line", account=LineAccount,
    content={"text": 5000, "url": True, "image": True, "sticker": True, "template": False},
    window_rule=window_rule,
    # A push (no reply token taken) counts against the monthly quota; a reply with a token is free.
    account_stage=lambda outbound: not outbound.get("reply_token"),
    # x-line-signature: base64(HMAC-SHA256(channel secret, raw body)).
    signature=Signature("x-line-signature", "base64"),
    connector="connectors.line:LineConnector",
    simulator="connectors.simulators.line:Line",
    # Quick replies and location messages are not mapped by the connector: numbered text, a map link.
    fallbacks={"quick_reply": "numbered_text", "location": "map_link"},
    # The reply token must be used within one minute of the webhook (docs/channels/verified-facts.md #4).
    extra={"max_messages_per_request": 5, "reply_token_seconds": 60})
