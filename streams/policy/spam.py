"""Repeat rules where a platform forbids them (X: no repeated identical DMs, no repeated link-only DMs).

Pure functions over the thread's `recent_outbound` (conversation-state v3): the approved messages
within the channel's repeat period, each as a fingerprint of its normalized text and its links. The
thread is one person on one account, so "to the same person" is the thread. The period is the
account's `repeat_period_hours`, else the channel's declared `spam.repeat_period_hours`.
"""
from __future__ import annotations

import hashlib
import re

from channels.spec import ChannelSpec
from channels.verdicts import HOUR_MS, Rejected

URL = re.compile(r"https?://\S+", re.IGNORECASE)
KEEP = 50   # entries kept per thread at most, even within the period


def period_ms(rules: ChannelSpec, account) -> int | None:
    """The repeat period of `account` on its channel; None where the channel declares no repeat rules."""
    if not rules.spam:
        return None
    hours = getattr(account, "repeat_period_hours", None) or rules.spam["repeat_period_hours"]
    return int(hours * HOUR_MS)


def sent(content: list[dict]) -> dict:
    """What the repeat rules know of a message: the fingerprint of its text as the customer reads it
    (text, link titles and links; case and spaces folded), its links, and whether it is only links."""
    text = " ".join(i.get("text") or "" for i in content if i["type"] == "text")
    url_items = [i for i in content if i["type"] == "url" and i.get("url")]
    links = sorted({i["url"] for i in url_items} | set(URL.findall(text)))
    shown = " ".join([text] + [f"{i.get('text') or ''} {i['url']}" for i in url_items])
    folded = " ".join(shown.casefold().split())
    only_links = all(i["type"] in ("text", "url") for i in content) and not URL.sub("", text).strip()
    return {"fingerprint": hashlib.sha256(folded.encode()).hexdigest()[:16] if folded else None,
            "links": links, "link_only": bool(links) and only_links}


def repeat(rules: ChannelSpec, account, thread: dict | None, content: list[dict], now: int) -> Rejected | None:
    """`spam.<channel>_identical` or `spam.<channel>_link_repeat` when `content` repeats a recent message."""
    period = period_ms(rules, account)
    if period is None or thread is None:
        return None
    recent = [e for e in thread.get("recent_outbound") or [] if now - e["at"] <= period]
    this, hours = sent(content), f"{period / HOUR_MS:g} h"
    if this["fingerprint"] and any(e["fingerprint"] == this["fingerprint"] for e in recent):
        return Rejected(f"spam.{rules.channel}_identical", f"{rules.channel} forbids sending the same message twice "
                        f"to the same person: this one was sent within the last {hours}")
    earlier = {link for e in recent for link in e["links"]}
    if this["link_only"] and set(this["links"]) <= earlier:
        return Rejected(f"spam.{rules.channel}_link_repeat", f"{rules.channel} forbids repeated link-only messages: "
                        f"this link was sent within the last {hours}; add a sentence saying why")
    return None


def remember(rules: ChannelSpec, account, thread: dict, content: list[dict], now: int) -> None:
    """Add an approved message to the thread's `recent_outbound`, forgetting those past the period."""
    period = period_ms(rules, account)
    if period is None:
        return
    this = sent(content)
    entry = {"at": now, "fingerprint": this["fingerprint"], "links": this["links"]}
    kept = [e for e in thread["recent_outbound"] if now - e["at"] <= period]
    thread["recent_outbound"] = (kept + [entry])[-KEEP:]
