"""Reply tokens (LINE): the newest inbound event's token is kept on the thread with its expiry; an
approved reply inside the validity takes it (a free reply), once; later replies go without (push).

The validity is the channel's `extra["reply_token_seconds"]` from the webhook's arrival (LINE: one
minute, docs/channels/verified-facts.md #4). A token taken at the policy's clock may still be late at
the platform: delivery's reply request then falls back to push (connectors/line.py).
"""
from __future__ import annotations

from channels.registry import rules
from streams.records import millis


def keep(thread: dict, msg: dict) -> None:
    """Keep `msg`'s reply token when it is newer than the thread's (a late event's token is older)."""
    seconds = rules(msg["channel"]).extra.get("reply_token_seconds")
    if not msg.get("reply_token") or not seconds:
        return
    expires_at = millis(msg.get("received_at") or msg["occurred_at"]) + int(seconds * 1000)
    current = thread.get("reply_token")
    if current is None or expires_at > current["expires_at"]:
        thread["reply_token"] = {"token": msg["reply_token"], "expires_at": expires_at, "used_by": None}


def take(thread: dict, outbound_id: str, now: int) -> str | None:
    """The token for the reply `outbound_id` at `now`, marked used; None when used, expired or absent."""
    token = thread.get("reply_token")
    if token is None or token["used_by"] is not None or now > token["expires_at"]:
        return None
    token["used_by"] = outbound_id
    return token["token"]
