"""The declaration each channel makes once, in its module `channels/<channel>.py`."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .account import ChannelAccount
from .verdicts import Approved, Rejected

# (outbound, thread state, account, ChannelSpec.window, ms since the customer's last message) → verdict.
# Called by the outbound policy once the customer has written on the thread.
WindowRule = Callable[[dict, dict, ChannelAccount, Mapping | None, int], Approved | Rejected]


@dataclass(frozen=True)
class Signature:
    """How a platform signs its webhooks: HMAC-SHA256 of the raw body under the account's signing
    secret, rendered as `prefix` + hex or base64, in one header. The algorithm is fixed here, never
    taken from the request."""

    header: str
    encoding: Literal["hex", "base64"]
    prefix: str = ""

    def render(self, secret: bytes, body: bytes) -> str:
        """The header value the platform sends for `body` signed with `secret`."""
        digest = hmac.new(secret, body, hashlib.sha256).digest()
        return self.prefix + (digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode())


@dataclass(frozen=True)
class ChannelSpec:
    """One channel: account model, content capabilities and limits, window rule, signature scheme,
    and where its connector and simulator live (`"module:Class"`, imported only by those who run them).

    `content` maps an element type to whether the channel can carry it; for `text`, True or the
    maximum length in characters. `window` holds the numbers `window_rule` applies; `extra` other
    limits (LINE's messages per request and reply token validity, WhatsApp's messaging limit tiers).
    `fallbacks` maps an element type the channel lacks to the fallback that replaces it
    (`channels.fallbacks.FALLBACKS`: emoji, numbered_text, map_link); `spam` the numbers of
    the repeat rules (`streams.policy.spam`) where the platform forbids repeats (X).
    `account_stage` says which approved outbounds an account-wide rule still governs (the account
    stage, streams/accounts: WhatsApp's catalogue and tier, LINE's push quota, X's daily cap).
    """

    channel: str
    account: type[ChannelAccount]
    content: Mapping[str, bool | int] = field(hash=False)
    window_rule: WindowRule
    window: Mapping | None = field(default=None, hash=False)
    signature: Signature | None = None   # None: no platform webhooks (our own widget)
    connector: str | None = None         # e.g. "connectors.whatsapp:WhatsAppConnector"
    simulator: str | None = None         # e.g. "connectors.simulators.whatsapp:WhatsApp"
    extra: Mapping = field(default_factory=dict, hash=False)
    fallbacks: Mapping[str, str] = field(default_factory=dict, hash=False)
    spam: Mapping | None = field(default=None, hash=False)
    account_stage: Callable[[dict], bool] | None = field(default=None, hash=False)
