"""Per-channel content capabilities and messaging rules, declared once in channels.yaml."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CHANNELS_FILE = Path(__file__).with_name("channels.yaml")


@dataclass(frozen=True)
class ChannelRules:
    """What a channel can carry (`content`: element -> allowed / max text length) and its window."""

    channel: str
    content: dict = field(hash=False)
    window: dict | None = field(default=None, hash=False)
    extra: dict = field(default_factory=dict, hash=False)

    def refusal(self, content_type: str, text: str | None = None) -> str | None:
        """Why this channel cannot carry one content element, or None when it can."""
        allowed = self.content.get(content_type, False)
        if allowed is False:
            return f"{self.channel} cannot carry {content_type} content"
        if content_type == "text" and allowed is not True and len(text or "") > allowed:
            return f"{self.channel} text is limited to {allowed} characters (this one has {len(text or '')})"
        return None


@cache
def rules(channel: str) -> ChannelRules:
    """The rules of `channel`; KeyError naming the known channels otherwise."""
    data = yaml.safe_load(CHANNELS_FILE.read_text())["channels"]
    if channel not in data:
        raise KeyError(f"unknown channel {channel!r}; known: {', '.join(data)}")
    body = dict(data[channel])
    return ChannelRules(channel, body.pop("content"), body.pop("window", None), body)
