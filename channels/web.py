"""Web Messaging: our own widget. No platform, so no webhook signature and no window; its
connector and widget are not written yet (connectors.registry has no `web`)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .account import ChannelAccount
from .spec import ChannelSpec
from .verdicts import no_window


class WebAccount(ChannelAccount):
    """A web messaging widget deployment."""

    channel: Literal["web"]
    allowed_origins: list[str] = Field(default_factory=list)


SPEC = ChannelSpec(
    channel="web", account=WebAccount,
    content={"text": 20000, "url": True, "image": True, "sticker": True, "template": False},
    window_rule=no_window)
