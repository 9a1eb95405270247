"""The guest API's frames (docs/channels/web.md "The guest API"): answers, typed errors, events."""
from __future__ import annotations

import re

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,256}$")   # ≥ 32 characters, e.g. 32 random bytes as base64url
MAX_TEXT = 20000
MAX_TRACING_ID = 64
CODES = ("bad_request", "session_not_configured", "rate_limited", "session_expired", "auth_required",
         "invalid_jwt", "step_down_refused", "attachment_not_found", "file_type_not_allowed", "file_too_large",
         "message_too_long", "closed", "unavailable")


class GuestError(Exception):
    """An action refused with one of the contract's codes (and, for rate limits, when to try again)."""

    def __init__(self, code: str, message: str, retry_after: float | None = None):
        assert code in CODES, code
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after


def tracing_id(frame: dict) -> str | None:
    """The client's tracingId, echoed in the answer (ignored when it is not a short string)."""
    value = frame.get("tracingId")
    return value if isinstance(value, str) and len(value) <= MAX_TRACING_ID else None


def answer(action: str, tracing: str | None, body: dict) -> dict:
    """`{"type": "response", …}`."""
    return {"type": "response", "action": action, "tracingId": tracing, "body": body}


def error(action: str | None, tracing: str | None, failure: GuestError) -> dict:
    """`{"type": "error", …}` with `retryAfter` when the client should wait."""
    frame = {"type": "error", "action": action, "tracingId": tracing, "code": failure.code, "message": failure.message}
    if failure.retry_after is not None:
        frame["retryAfter"] = round(failure.retry_after, 3)
    return frame


def event(name: str, body: dict, event_id: str | None = None) -> dict:
    """`{"type": "event", …}`; events with an `id` are replayed after a reconnect (`since`)."""
    frame = {"type": "event", "event": name, "body": body}
    return frame | {"id": event_id} if event_id else frame


def field(frame: dict, name: str, kind: type, *, required: bool = True):
    """frame[name] if it is a `kind`, None when absent and optional; GuestError bad_request otherwise."""
    value = frame.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise GuestError("bad_request", f"`{name}` must be a {kind.__name__}")
    return value
