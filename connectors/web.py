"""Web Messaging: our own widget (docs/channels/web.md). No platform sits between the visitor and us.

Inbound, the guest socket (`connectors/webmessaging/`) is the check a webhook signature is elsewhere:
it builds one canonical envelope per guest message — the bytes `parse` reads, which is also what
`tests/fixtures/webhooks/web/` holds — so the web channel goes through the same parse, record and
publish path as every other. `/webhooks/web/...` answers 404: `verify` refuses every request there.

```json
{"session": {"id", "authenticated", "sub", "name", "email", "phone", "page", "language", "entryPoint"},
 "message": {"id", "sentAt", "text", "attachments": [{"mediaKey", "type", "size", "name"}], "offlineForm"}}
```

Outbound, "the platform" is the edge replica holding the guest's socket: one signed POST to
`<edge>/webmessaging/v1/deliveries` (HMAC-SHA256 under a key derived from the auth secret), which
the edge publishes to `webmessaging-events` before answering, so every replica can push it.
"""
from __future__ import annotations

import json

from .base import Parsed, ParseError, PlatformRequest, Refused, SendResult
from .compose import body_json, check_capabilities, http_error
from .normalize import identity, inbound, item, load_json, millis, require, text_items
from .signatures import hex_sha256, mac

SIGNATURE_HEADER = "X-Switchboard-Signature"
DELIVERIES_PATH = "/webmessaging/v1/deliveries"
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio"}   # MIME family → ContentItem type


def purpose_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose of Web Messaging (deliveries, history tokens, upload URLs), never the
    auth secret itself."""
    return mac(secret, f"webmessaging-{purpose}".encode())


def delivery_key(secret: bytes) -> bytes:
    """The key deliveries are signed with."""
    return purpose_key(secret, "delivery")


# `sha256=<hex>` of the exact body bytes, the rendering Meta's webhooks use too.
delivery_signature = hex_sha256


class WebConnector:
    """The web channel: guest envelopes in, signed deliveries to the edge out.

    `deliveries_url` and `key` are given by `switchboard deliver` (settings); the registry's
    instance has neither and refuses to build a delivery.
    """

    channel = "web"
    media_form = "key"   # stored media travel as media_key; the edge signs the URL on the way to the widget

    def __init__(self, deliveries_url: str | None = None, key: bytes | None = None):
        self.deliveries_url, self.key = deliveries_url, key

    def handshake(self, account, query) -> None:
        """No platform, no handshake."""
        return None

    def verify(self, account, headers, body: bytes) -> bool:
        """Nothing arrives over `/webhooks/web/…`: the guest socket is the only way in."""
        return False

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """One envelope → one inbound message (sender = the session, details from the pre-chat form,
        setUser or the JWT)."""
        data = load_json(body)
        if not isinstance(data, dict):
            raise ParseError("a web envelope is a JSON object {session, message}")
        session, message = require(data, "session"), require(data, "message")
        content = text_items(message.get("text"))
        content += [_attachment(a) for a in message.get("attachments") or []]
        if not content:
            raise ParseError("a web message needs text or attachments")
        record = inbound(account, platform_message_id=str(require(message, "id")),
                         occurred_at=millis(require(message, "sentAt")), received_at=received_at_ms,
                         sender=_sender(session), text=message.get("text") or None, content=content,
                         language=session.get("language"), attributes=_attributes(session, message))
        return Parsed(messages=[record])

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """One signed POST of the whole message to the edge's deliveries endpoint."""
        check_capabilities(self.channel, outbound)
        if not self.deliveries_url or not self.key:   # a deliver built without the edge's address and key
            raise Refused("delivery.unconfigured", "this deliver has no Web Messaging edge to hand messages to "
                                                   "(connectors.delivery builds the web connector from settings)")
        raw = json.dumps(delivery_body(account, outbound), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: delivery_signature(self.key, raw)}
        # The widget drops a repeat by messageId (= outbound id): a resend is harmless.
        return [PlatformRequest("POST", self.deliveries_url, headers, body=raw, idempotent=True)]

    def result_of(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """200: kept for the widget; 404: the session is gone (permanent); 429/5xx retried."""
        answer = body_json(body)
        if status_code == 200:
            return SendResult(ok=True, platform_message_ids=tuple(filter(None, [answer.get("messageId")])))
        if status_code == 404:
            return SendResult(ok=False, error_code="session_unknown",
                              reason=answer.get("error") or "the visitor's session is closed or expired")
        return http_error(status_code, headers, answer.get("code") or str(status_code),
                          answer.get("error") or f"HTTP {status_code}")


def delivery_body(account, outbound: dict) -> dict:
    """What the edge receives: who it is for, and the content items as the pipeline carried them."""
    return {"outboundId": outbound["outbound_id"], "tenantId": account.tenant_id, "deploymentId": account.account_id,
            "sessionId": outbound["recipient_id"], "threadKey": outbound["thread_key"],
            "conversationId": outbound.get("conversation_id"), "agentId": outbound.get("agent_id"),
            "createdAt": _ms(outbound["created_at"]),
            "content": [{k: v for k, v in element.items() if v not in (None, [], {})}
                        for element in outbound.get("content") or []]}


def _sender(session: dict) -> dict:
    return identity(str(require(session, "id")), "platform_id", display_name=session.get("name"),
                    email=session.get("email"), phone=session.get("phone"))


def _attributes(session: dict, message: dict) -> dict:
    attributes = {"session_id": session["id"], "page": session.get("page"), "auth_sub": session.get("sub")}
    if session.get("authenticated"):
        attributes["authenticated"] = "true"
    if message.get("offlineForm"):
        attributes["offline_form"] = "true"
    if session.get("entryPoint"):   # Brief C's conversation processor reads these two names
        attributes |= {"referral_ref": session["entryPoint"], "referral_source": "widget"}
    return attributes


def _attachment(attachment: dict) -> dict:
    if not isinstance(attachment, dict) or not attachment.get("mediaKey"):
        raise ParseError("a web attachment needs its mediaKey (uploaded first)")
    mime = str(attachment.get("type") or "")
    return item(MEDIA_TYPES.get(mime.split("/", 1)[0], "file"), media_key=attachment["mediaKey"],
                mime_type=mime or None, size_bytes=attachment.get("size"), title=attachment.get("name"))


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000) if hasattr(moment, "timestamp") else int(moment)
