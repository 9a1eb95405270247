"""Open Messaging: Switchboard's normalized JSON API for any channel (docs/channels/open-messaging.md)."""
from __future__ import annotations

import json
import mimetypes
from datetime import datetime, timezone
from urllib.parse import urlparse

from .base import Parsed, ParseError, PlatformRequest, SendResult
from .compose import body_json, check_capabilities, http_error, parts, signed
from .normalize import identity, inbound, item, iso_millis, load_json, require, status, text_items
from .signatures import b64_sha256

MEDIA = {"Image": "image", "Video": "video", "Audio": "audio", "File": "file"}
ID_TYPES = {"email": "email", "phone": "phone", "opaque": "opaque"}
RECEIPTS = {"Delivered": "delivered", "Read": "read", "Failed": "failed", "Sent": "sent"}


class OpenConnector:
    """An Open Messaging integration: signed JSON in (one message or an array), signed JSON out."""

    channel = "open"

    def handshake(self, account, query) -> None:
        """Open Messaging has no GET handshake."""
        return None

    verify = staticmethod(signed)   # X-Hub-Signature-256 (base64), declared in channels/open.py

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """Text messages and receipts; a message missing a required field fails the whole batch."""
        data = load_json(body)
        batch = data if isinstance(data, list) else [data]
        out = Parsed()
        for message in batch:
            if not isinstance(message, dict):
                raise ParseError("an Open Messaging body is a message object or an array of them")
            kind = require(message, "type")
            if kind == "Text":
                out.messages.append(self._text(account, message, received_at_ms, out))
            elif kind == "Receipt":
                out.statuses.append(self._receipt(account, message))
            else:
                _check_channel(message, account, "to")
                out.ignored += 1  # e.g. Event (typing)
        return out

    def _text(self, account, message: dict, received_at: int, out: Parsed) -> dict:
        channel = _check_channel(message, account, "to")
        sender = require(channel, "from")
        who, id_type = str(require(sender, "id")), ID_TYPES.get(sender.get("idType"), "opaque")
        person = identity(who, id_type, display_name=sender.get("nickname"), first_name=sender.get("firstName"),
                          last_name=sender.get("lastName"), email=who if id_type == "email" else None,
                          phone=who.lstrip("+") if id_type == "phone" else None)
        content = text_items(message.get("text"))
        for element in message.get("content") or []:
            content.append(_attachment(element, out))
        return inbound(account, platform_message_id=str(require(channel, "messageId")),
                       occurred_at=iso_millis(require(channel, "time")), received_at=received_at,
                       sender=person, text=message.get("text") or None, content=content)

    def _receipt(self, account, message: dict) -> dict:
        channel = _check_channel(message, account, "from")
        # A status this version does not know becomes `unknown` with raw_status (normalize.status).
        state = RECEIPTS.get(require(message, "status"), message["status"])
        reason = (message.get("reasons") or [{}])[0]
        if state == "failed" and not reason.get("code"):
            raise ParseError("a Failed receipt needs reasons[].code")
        return status(account, external_id=str(require(channel, "to", "id")), state=state,
                      platform_message_ids=[require(channel, "messageId")],
                      occurred_at=iso_millis(require(channel, "time")), outbound_id=message.get("id"),
                      error_code=reason.get("code"), error_reason=reason.get("message"),
                      attributes={"final": str(bool(message.get("isFinalReceipt"))).lower()})

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """One signed POST to the integration's outbound_url carrying the whole message."""
        check_capabilities(self.channel, outbound)
        message = _outbound_body(account, outbound, parts(outbound["content"]))
        raw = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        signature = b64_sha256(account.outbound_secret.get_secret_value().encode(), raw)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        return [PlatformRequest("POST", account.outbound_url, headers, body=raw, idempotent=True)]

    def result_of(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """Any 2xx is success (the integration dedupes on `id`); 429/5xx retried."""
        if 200 <= status_code < 300:
            return SendResult(ok=True)
        answer = body_json(body)
        return http_error(status_code, headers, str(status_code), answer.get("message") or f"HTTP {status_code}")


def _check_channel(message: dict, account, side: str) -> dict:
    channel = require(message, "channel")
    for field in ("platform", "messageId", "time"):
        require(channel, field)
    if str(require(channel, side, "id")) != account.account_id:
        raise ParseError(f"message for integration {channel[side]['id']} arrived at account {account.account_id}")
    return channel


def _attachment(element: dict, out: Parsed) -> dict:
    attachment = element.get("attachment") or {}
    kind = MEDIA.get(attachment.get("mediaType"))
    if element.get("contentType") != "Attachment" or kind is None:
        out.unsupported += 1
        return item("unsupported", raw_type=str(attachment.get("mediaType") or element.get("contentType")))
    return item(kind, url=attachment.get("url"), mime_type=attachment.get("mime"), title=attachment.get("filename"))


def _outbound_body(account, outbound: dict, message_parts: list[dict]) -> dict:
    texts = [p["text"] for p in message_parts if p.get("text")]
    attachments = [{"contentType": "Attachment", "attachment": _media(p)} for p in message_parts if p["type"] != "text"]
    recipient = outbound["recipient_id"]
    id_type = (outbound.get("attributes") or {}).get("recipient_id_type") or (
        "email" if "@" in recipient else "phone" if recipient.startswith("+") else "opaque")
    body = {"id": outbound["outbound_id"],
            "channel": {"platform": "Open", "type": "Private", "messageId": outbound["outbound_id"],
                        "to": {"id": recipient, "idType": id_type}, "from": {"id": account.account_id},
                        "time": _iso(outbound["created_at"])},
            "type": "Text", "direction": "Outbound", "text": "\n".join(texts)}
    return {**body, "content": attachments} if attachments else body


def _media(part: dict) -> dict:
    name = part.get("title") or urlparse(part.get("url") or "").path.rsplit("/", 1)[-1]
    mime = part.get("mime_type") or mimetypes.guess_type(name)[0]
    media_type = {"image": "Image", "video": "Video", "audio": "Audio"}.get(part["type"], "File")
    return {"mediaType": media_type, "url": part.get("url"), "mime": mime, "filename": name}


def _iso(moment) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(int(moment) / 1000, tz=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
