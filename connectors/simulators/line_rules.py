"""LINE message objects the Messaging API accepts: ≤ 5 per request, typed, text ≤ 5,000 characters."""
from __future__ import annotations

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_URL = 2000
# The monthly message quota a simulated channel starts with (the Light plan's 5,000; set it with
# POST /_sim/line/quota). Pushes count, one per recipient; replies are free.
DEFAULT_QUOTA = 5000
QUOTA_REACHED = "You have reached your monthly limit."


def quota(state, account_id: str) -> dict:
    """The channel's quota setting {"limit": N or None (no limit)}."""
    return state.scratch["line_quota"].setdefault(account_id, {"limit": DEFAULT_QUOTA})


def pushes(state, account_id: str) -> dict[str, int]:
    """The channel's pushes by calendar month ("2025-10" → count)."""
    return state.scratch["line_pushes"].setdefault(account_id, {})


def messages_problem(messages) -> list[dict]:
    """LINE's `details[]` ({message, property}) for an invalid messages array; empty when valid."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [{"message": f"Size must be between 1 and {MAX_MESSAGES}", "property": "messages"}]
    return [d for i, m in enumerate(messages) for d in _message_problem(f"messages[{i}]", m)]


def _message_problem(where: str, message) -> list[dict]:
    if not isinstance(message, dict) or message.get("type") not in _CHECKS:
        return [{"message": "Invalid message type", "property": f"{where}.type"}]
    return [{"message": text, "property": f"{where}.{field}"} for field, text in _CHECKS[message["type"]](message)]


def _text(m: dict):
    if not isinstance(m.get("text"), str):
        yield "text", "must be specified"
    elif not 0 < len(m["text"]) <= MAX_TEXT:
        yield "text", f"Length must be between 0 and {MAX_TEXT}"


def _sticker(m: dict):
    for field in ("packageId", "stickerId"):
        if not isinstance(m.get(field), str) or not m[field]:
            yield field, "must be specified"


def _media(m: dict, fields=("originalContentUrl", "previewImageUrl")):
    for field in fields:
        url = m.get(field)
        if not isinstance(url, str):
            yield field, "must be specified"
        elif not url.startswith("https://"):
            yield field, "must be https"
        elif len(url) > MAX_URL:
            yield field, f"Length must be between 0 and {MAX_URL}"


def _location(m: dict):
    for field in ("title", "address", "latitude", "longitude"):
        if field not in m:
            yield field, "must be specified"


_CHECKS = {"text": _text, "sticker": _sticker, "image": _media, "video": _media, "location": _location,
           "audio": lambda m: _media(m, ("originalContentUrl",))}
