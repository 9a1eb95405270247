"""Shared pieces of the connectors: the declared signature check, capability checks, message parts, HTTP answers."""
from __future__ import annotations

import hashlib
import json
import mimetypes
import time
from email.utils import parsedate_to_datetime

from channels.refusals import refusal
from channels.registry import rules

from .base import Refused, SendResult
from .signatures import matches


def signed(account, headers, body: bytes) -> bool:
    """Whether `body` carries its platform's signature as the channel declares it (`channels/<channel>.py`
    `Signature`: header, fixed algorithm), under the account's current or previous secret."""
    scheme = rules(account.channel).signature
    return matches(headers.get(scheme.header), account.signing_secrets(), body, scheme.render)


def check_capabilities(channel: str, outbound: dict) -> None:
    """Refused for the first thing in `outbound` the channel cannot carry (`channels.refusals`, the
    same check the outbound policy made)."""
    refused = refusal(rules(channel), outbound)
    if refused:
        raise Refused(*refused)


def parts(content: list[dict]) -> list[dict]:
    """Content as the messages to send: runs of text and url items joined into one text part,
    quick replies attached to the text before them, every other element a part of its own."""
    out: list[dict] = []
    for element in content:
        kind = element["type"]
        if kind in ("text", "url"):
            piece = element.get("url") if kind == "url" else element.get("text")
            if kind == "url" and element.get("text"):
                piece = f"{element['text']} {piece}"
            if out and out[-1]["type"] == "text" and not out[-1]["quick_replies"]:
                out[-1]["text"] = f"{out[-1]['text']} {piece}"
            else:
                out.append({"type": "text", "text": piece, "quick_replies": []})
        elif kind == "quick_reply":
            if not out or out[-1]["type"] != "text":
                raise Refused("capability.quick_reply", "quick replies must follow a text")
            out[-1]["quick_replies"].append(element)
        else:
            out.append(dict(element))
    return out


def require_field(element: dict, *names: str, rule: str, reason: str) -> str:
    """The first of `names` the element has, or Refused(rule, reason)."""
    for name in names:
        if element.get(name):
            return str(element[name])
    raise Refused(rule, reason)


def body_json(body: bytes):
    """A response body as JSON, or {} when it is empty or not JSON."""
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {}


def retry_after(headers, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X's x-rate-limit-reset (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                return None
    reset = headers.get("x-rate-limit-reset")
    if reset and reset.isdigit():
        return max(0.0, int(reset) - now)
    return None


def http_error(status: int, headers, code: str | None, reason: str, retriable: bool | None = None) -> SendResult:
    """A failed SendResult: retriable by default for 429 and 5xx, permanent otherwise."""
    if retriable is None:
        retriable = status == 429 or status >= 500
    return SendResult(ok=False, retriable=retriable, error_code=code, reason=reason,
                      retry_after=retry_after(headers) if retriable else None)


def multipart(fields: list[tuple[str, str]], file_field: str, data: bytes, mime_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) of text fields plus one file, and its Content-Type.

    Built as exact bytes so a `PlatformRequest` can carry it; the boundary comes from the file's
    hash, so the same upload gives the same body.
    """
    digest = hashlib.sha256(data).hexdigest()
    boundary, filename = f"switchboard-{digest[:32]}", digest[:16] + (mimetypes.guess_extension(mime_type) or "")
    out = bytearray()
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {mime_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
