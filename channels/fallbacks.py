"""Declared content fallbacks: what replaces an element a channel cannot carry, applied once.

Each channel declares in its `SPEC.fallbacks` which fallback replaces an element type it lacks
(e.g. X: sticker → emoji, quick_reply → numbered_text, location → map_link). The outbound policy
calls `substitute` before its capability check (`channels.refusals.refusal`); the approved message
carries the replaced content and the attribute `fallbacks` naming what was replaced, so delivery's
check (the same `refusal`) accepts it and the facts can count it. An element with no declared
fallback, or one the fallback cannot express, is refused with a reason: never silently dropped.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .spec import ChannelSpec

# Our own sticker set (connectors/webmessaging/static/stickers/<sticker_id>.svg) as emoji.
STICKER_EMOJI = {"wave": "👋", "thumbs-up": "👍", "heart": "❤️", "party": "🎉", "thanks": "🙏", "coffee": "☕"}
ATTRIBUTE = "fallbacks"   # outbound attribute: "<type>:<fallback>,…" of the elements replaced


class Replaced(NamedTuple):
    """Content with every element the channel lacks replaced, and what was replaced ("sticker:emoji")."""

    content: list[dict]
    applied: list[str]


class NoFallback(Exception):
    """The fallback cannot express this element (e.g. a sticker without an emoji)."""


def _emoji(item: dict) -> list[dict]:
    # ContentItem.text of a sticker is its emoji/alt text (the composer's); else our set's emoji.
    emoji = item.get("text") or STICKER_EMOJI.get(item.get("sticker_id") or "")
    if not emoji:
        raise NoFallback("this sticker has no emoji to send instead: send a text or an image")
    return [{"type": "text", "text": emoji}]


def _numbered_text(item: dict) -> list[dict]:
    # One quick reply becomes one numbered line; `substitute` numbers and joins consecutive ones.
    return [{"type": "text", "text": item.get("text") or item.get("payload") or "", "quick_reply": True}]


def _map_link(item: dict) -> list[dict]:
    if not item.get("url"):
        raise NoFallback("this location has no map link to send instead")
    label = ", ".join(p for p in (item.get("title"), item.get("address")) if p)
    return [{"type": "url", "url": item["url"], "text": label or None}]


# Fallback name (as declared by channels) → the function building the replacement elements.
FALLBACKS: dict[str, Callable[[dict], list[dict]]] = {
    "emoji": _emoji, "numbered_text": _numbered_text, "map_link": _map_link}


def substitute(spec: ChannelSpec, content: list[dict]) -> Replaced | tuple[str, str]:
    """`content` with the elements `spec`'s channel lacks replaced by their declared fallbacks, or
    (rule, reason) when the fallback cannot express one. An element without a declared fallback is
    kept: `refusal` then refuses it under its capability rule."""
    out: list[dict] = []
    applied: list[str] = []
    for item in content:
        kind = item["type"]
        name = spec.fallbacks.get(kind)
        if spec.content.get(kind, False) is not False or name is None:
            out.append(item)   # carried, or refused by `refusal` with its capability rule
            continue
        try:
            replacement = FALLBACKS[name](item)
        except NoFallback as gone:
            return f"capability.{kind}", f"{spec.channel} cannot carry {kind} content and {gone}"
        out += replacement
        if f"{kind}:{name}" not in applied:
            applied.append(f"{kind}:{name}")
    return Replaced(_number_quick_replies(out), applied)


def _number_quick_replies(content: list[dict]) -> list[dict]:
    """Runs of replaced quick replies as "1. Yes\n2. No", appended to the text before them."""
    out: list[dict] = []
    number = 0
    for item in content:
        if not item.get("quick_reply"):
            out.append(item)
            number = 0
            continue
        number += 1
        line = f"{number}. {item['text']}"
        if out and out[-1]["type"] == "text":
            out[-1] = {**out[-1], "text": f"{out[-1]['text']}\n{line}"}
        else:
            out.append({"type": "text", "text": line})
    return out
