"""What delivery writes about one outbound message: ledger entries, statuses, rejections (pure)."""
from __future__ import annotations

from channels.refusals import rejection  # noqa: F401  (re-exported: the one outbound-rejection builder)

from .normalize import event_id

UNKNOWN_AFTER_RESTART = ("unknown_outcome", "unknown outcome after restart: a send may have reached the platform "
                                            "before the previous deliver stopped, and this channel cannot dedupe a resend")


def attempt(outbound: dict, state: str, now_ms: int, *, ids=(), attempts: int = 0, code: str | None = None) -> dict:
    """A delivery-ledger entry (key: outbound id)."""
    return {"outbound_id": outbound["outbound_id"], "tenant_id": outbound["tenant_id"], "channel": outbound["channel"],
            "state": state, "updated_at": now_ms, "platform_message_ids": list(ids), "attempts": attempts,
            "error_code": code}


def status(outbound: dict, state: str, now_ms: int, *, ids=(), attempts: int = 0, code: str | None = None,
           reason: str | None = None) -> dict:
    """A delivery-status event for our send (deterministic id: one per outbound message and state)."""
    return {"event_id": event_id("ds", outbound["channel"], outbound["channel_account_id"], "send",
                                 outbound["outbound_id"], state),
            "tenant_id": outbound["tenant_id"], "channel": outbound["channel"],
            "channel_account_id": outbound["channel_account_id"], "thread_key": outbound["thread_key"],
            "status": state, "outbound_id": outbound["outbound_id"], "platform_message_ids": list(ids),
            "watermark": None, "occurred_at": now_ms, "error_code": code, "error_reason": reason,
            "retriable": False, "attempts": attempts, "attributes": {}}
