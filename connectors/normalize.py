"""Shared pieces of inbound normalization: ids, thread keys, content items, event records."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import cache

from schemas.registry import load_schema

from .base import ParseError

# Fixed namespace: event ids are uuid5 over channel/account/platform ids, so a redelivered
# webhook yields the same event_id and downstream dedupe can drop it.
NAMESPACE = uuid.UUID("6f1c2d0e-8a4b-5c3d-9e2f-5b7c9d1e3f20")
URL = re.compile(r"https?://[^\s<>\"']+")
ITEM_FIELDS = ("text", "url", "media_id", "mime_type", "sticker_package_id", "sticker_id",
               "latitude", "longitude", "title", "address", "payload", "raw_type",
               "media_key", "size_bytes", "contact", "order")  # the last four: ContentItem v2
IDENTITY_FIELDS = ("display_name", "first_name", "last_name", "phone", "email", "platform_user_id")


@cache
def enum(subject: str, name: str) -> tuple[tuple[str, ...], str]:
    """The symbols and the default of the enum `name` in `subject`'s latest schema (read, so a
    new symbol in a new schema version is known here at once and the two cannot drift)."""
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == name:
                return node
            node = list(node.values())
        if isinstance(node, list):
            return next(filter(None, map(walk, node)), None)
        return None
    found = walk(load_schema(subject).definition)
    if found is None or "default" not in found:
        raise LookupError(f"{subject} has no enum {name} with a default")
    return tuple(found["symbols"]), found["default"]


def symbol(value, subject: str, name: str) -> str:
    """`value` when it is a symbol of the enum, else the enum's default (`unknown`, `other`,
    `unsupported`…): a value a platform adds later must never reach the Avro encoder, which
    raises on it and makes the edge answer 500 (platforms retry that for days)."""
    allowed, default = enum(subject, name)
    return value if value in allowed else default


def event_id(prefix: str, *parts) -> str:
    """`<prefix>-<uuid5>` over the parts: the same platform ids always give the same id."""
    return f"{prefix}-{uuid.uuid5(NAMESPACE, '|'.join(str(p) for p in parts))}"


def thread_key(account, external_id: str) -> str:
    """`<tenant>:<channel>:<channel account>:<external user id>`, the Kafka key of a thread."""
    return f"{account.tenant_id}:{account.channel}:{account.account_id}:{external_id}"


def item(type_: str, **fields) -> dict:
    """A ContentItem record with every field present (None when not given)."""
    unknown = set(fields) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"not ContentItem fields: {sorted(unknown)}")
    kept = symbol(type_, "inbound-message", "ContentType")
    if kept != type_:
        fields["raw_type"] = fields.get("raw_type") or str(type_)
    return {"type": kept, **{name: fields.get(name) for name in ITEM_FIELDS}}


def location(latitude, longitude, **fields) -> dict:
    """A location item with a map link (OpenStreetMap: no key, no tracking redirect) when it has coordinates."""
    if latitude is None or longitude is None:
        return item("location", **fields)
    return item("location", latitude=float(latitude), longitude=float(longitude), **fields,
                url=f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}")


def identity(external_id: str, id_type: str = "platform_id", **fields) -> dict:
    """An Identity record with every field present."""
    return {"external_id": str(external_id), "id_type": symbol(id_type, "inbound-message", "IdType"),
            **{name: fields.get(name) for name in IDENTITY_FIELDS}}


def text_items(text: str | None, urls: list[str] | None = None) -> list[dict]:
    """A text item plus one url item per link (found in the text unless given)."""
    if not text:
        return []
    found = URL.findall(text) if urls is None else urls
    return [item("text", text=text)] + [item("url", url=u) for u in found]


def inbound(account, *, platform_message_id: str, occurred_at: int, received_at: int, sender: dict,
            kind: str = "message", text: str | None = None, content: list[dict] | None = None,
            **optional) -> dict:
    """An inbound-message record for `account` with a deterministic event id; a kind the schema
    does not know is `other`, the platform's word kept as attribute `raw_kind`."""
    raw, kind = kind, symbol(kind, "inbound-message", "InboundKind")
    attributes = _kept(optional.get("attributes"), raw, kind, "raw_kind")
    return {
        "event_id": event_id("in", account.channel, account.account_id, platform_message_id),
        "tenant_id": account.tenant_id, "channel": account.channel,
        "channel_account_id": account.account_id,
        "thread_key": thread_key(account, optional.get("thread_id") or sender["external_id"]),
        "kind": kind, "platform_message_id": platform_message_id,
        "platform_event_id": optional.get("platform_event_id"),
        "redelivery": bool(optional.get("redelivery", False)),
        "occurred_at": occurred_at, "received_at": received_at, "sender": sender,
        "recipient_id": optional.get("recipient_id") or account.account_id,
        "text": text, "content": content or [],
        "reply_to_message_id": optional.get("reply_to_message_id"),
        "reply_token": optional.get("reply_token"), "language": optional.get("language"),
        "reply_to_text": optional.get("reply_to_text"), "target_message_id": optional.get("target_message_id"),
        "forwarded": bool(optional.get("forwarded")), "frequently_forwarded": bool(optional.get("frequently_forwarded")),
        "attributes": attributes,
    }


def status(account, *, external_id: str, state: str, platform_message_ids: list[str],
           occurred_at: int, **optional) -> dict:
    """A delivery-status record (a platform receipt) with a deterministic event id; a state the
    schema does not know (WhatsApp's `played` for voice messages) is `unknown`, the platform's word
    kept as attribute `raw_status` (and in the event id, so `played` and `read` stay two events)."""
    ids = [str(i) for i in platform_message_ids]
    kept = symbol(state, "delivery-status", "DeliveryState")
    attributes = _kept(optional.get("attributes"), state, kept, "raw_status")
    watermark = optional.get("watermark")
    return {
        "event_id": event_id("ds", account.channel, account.account_id, state, external_id,
                             watermark or "", *ids),
        "tenant_id": account.tenant_id, "channel": account.channel,
        "channel_account_id": account.account_id, "thread_key": thread_key(account, external_id),
        "status": kept, "outbound_id": optional.get("outbound_id"), "platform_message_ids": ids,
        "watermark": watermark, "occurred_at": occurred_at,
        "error_code": optional.get("error_code"), "error_reason": optional.get("error_reason"),
        "retriable": False, "attempts": 0, "attributes": attributes,
    }


def _kept(attributes: dict | None, raw, kept: str, name: str) -> dict[str, str]:
    """The attributes as strings, with the platform's raw value under `name` when it was not kept."""
    out = {k: str(v) for k, v in (attributes or {}).items() if v is not None}
    return out | {name: str(raw)} if raw != kept else out


def load_json(body: bytes):
    """The JSON value of a webhook body, or ParseError naming why it is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise ParseError("body is JSON nested too deeply to read") from None


def objects(items, what: str) -> list[dict]:
    """The JSON objects of a list the platform sends (entries, events), absent = none; ParseError
    naming the first element that is not an object (`entry[2] is null`)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ParseError(f"{what} is not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParseError(f"{what}[{index}] is {json.dumps(item)[:40]}, not an object")
    return items


def require(mapping, *path: str):
    """mapping[path[0]][path[1]]…, or ParseError naming the missing field."""
    node = mapping
    for i, name in enumerate(path):
        if not isinstance(node, dict) or node.get(name) in (None, ""):
            raise ParseError(f"missing field {'.'.join(path[:i + 1])}")
        node = node[name]
    return node


def iso_millis(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time with zone (`2025-03-14T09:26:53.123Z`)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise ParseError(f"not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise ParseError(f"time without zone: {text!r}")
    return int(moment.timestamp() * 1000)


def millis(value) -> int:
    """Epoch milliseconds from a platform's number or numeric string, or ParseError."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ParseError(f"not a timestamp: {value!r}") from None
