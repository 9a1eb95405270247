"""LINE Messaging API: webhook events in, reply/push out (docs/channels/line.md)."""
from __future__ import annotations

import uuid

from channels.registry import rules

from .base import Parsed, ParseError, PlatformRequest, Refused, SendResult
from .compose import body_json, check_capabilities, http_error, parts, require_field, signed
from .normalize import NAMESPACE, identity, inbound, item, load_json, location, millis, objects, require, text_items

MEDIA = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
KINDS = ("message", "postback", "follow", "unfollow", "unsend")


class LineConnector:
    """LINE Official Account: `destination` + events[], reply tokens and retry keys."""

    channel = "line"

    def handshake(self, account, query) -> None:
        """LINE has no GET handshake: its console Verify is a signed POST with no events."""
        return None

    verify = staticmethod(signed)   # x-line-signature, declared in channels/line.py

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """Every event: messages, postbacks, follow/unfollow; standby and other events counted."""
        data = load_json(body)
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise ParseError("not a LINE webhook (destination + events[])")
        if require(data, "destination") != account.account_id:
            raise ParseError(f"events for bot {data['destination']} arrived at account {account.account_id}")
        out = Parsed()
        for event in objects(data["events"], "events"):
            record = self._event(account, event, received_at_ms, out)
            if record is None:
                out.ignored += 1
            else:
                out.messages.append(record)
        return out

    def _event(self, account, event: dict, received_at: int, out: Parsed) -> dict | None:
        kind = event.get("type")
        if event.get("mode") == "standby" or kind not in KINDS:
            return None  # standby: another module channel answers; join/leave/beacon: not modelled
        source = require(event, "source")
        chat = source.get("groupId") or source.get("roomId")
        if chat and not account.groups:
            return None  # a group or room chat is not a one-to-one conversation: counted, ignored
        user = source.get("userId") or chat
        if not user:
            raise ParseError("event source without userId")
        event_id = require(event, "webhookEventId")
        # An enabled group is one thread (replies and pushes go to the group id); the speaker is the sender.
        common = dict(occurred_at=millis(require(event, "timestamp")), received_at=received_at,
                      sender=identity(user), thread_id=chat, platform_event_id=event_id,
                      reply_token=event.get("replyToken"),
                      redelivery=(event.get("deliveryContext") or {}).get("isRedelivery", False))
        where = {"source_type": source["type"], "group_id": source.get("groupId"), "room_id": source.get("roomId")} \
            if chat else {}
        if kind == "message":
            message = require(event, "message")
            text, content = self._content(message, out)
            return inbound(account, platform_message_id=str(require(message, "id")), text=text, content=content,
                           reply_to_message_id=message.get("quotedMessageId"),  # the past message it quotes
                           attributes={"quote_token": message.get("quoteToken"), **where}, **common)
        if kind == "postback":
            data = (event.get("postback") or {}).get("data")
            return inbound(account, platform_message_id=event_id, kind="postback",
                           content=[item("postback", payload=data)], attributes=where, **common)
        if kind == "unsend":  # the user took back one of their messages (reference: unsend event)
            return inbound(account, platform_message_id=event_id, kind="unsend", attributes=where,
                           target_message_id=str(require(event, "unsend", "messageId")), **common)
        return inbound(account, platform_message_id=event_id, kind=kind, attributes={
            "unblocked": str((event.get("follow") or {}).get("isUnblocked", "")).lower() or None, **where}, **common)

    def _content(self, message: dict, out: Parsed) -> tuple[str | None, list[dict]]:
        kind = message.get("type")
        if kind == "text":  # LINE emoji arrive as text like "(love)" described in emojis[]
            return message.get("text"), text_items(message.get("text"))
        if kind in MEDIA:
            provider = message.get("contentProvider") or {}
            return None, [item(MEDIA[kind], media_id=str(message.get("id")), url=provider.get("originalContentUrl"),
                               title=message.get("fileName"))]
        if kind == "sticker":
            return None, [item("sticker", sticker_package_id=str(message.get("packageId")),
                               sticker_id=str(message.get("stickerId")))]
        if kind == "location":
            return None, [location(message.get("latitude"), message.get("longitude"),
                                   title=message.get("title"), address=message.get("address"))]
        out.unsupported += 1
        return None, [item("unsupported", raw_type=str(kind))]

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """Up to 5 message objects per call: a reply while the token is fresh, else push."""
        check_capabilities(self.channel, outbound)
        objects = []
        for part in parts(outbound["content"]):
            objects.append(_object(part, outbound.get("attributes") or {}))
            if part["type"] == "image" and part.get("text"):  # LINE images have no caption: it follows as text
                objects.append({"type": "text", "text": part["text"]})
        size = rules(self.channel).extra.get("max_messages_per_request", 5)
        chunks = [objects[i:i + size] for i in range(0, len(objects), size)]
        requests = [self._push(account, outbound, chunk, i) for i, chunk in enumerate(chunks)]
        if requests and outbound.get("reply_token"):
            reply = {"replyToken": outbound["reply_token"], "messages": chunks[0]}
            requests[0] = PlatformRequest("POST", f"{account.api_base_url}/v2/bot/message/reply",
                                          _auth(account), reply, fallback=requests[0])
        return requests

    def _push(self, account, outbound: dict, chunk: list[dict], index: int) -> PlatformRequest:
        # The same retry key for every attempt of this chunk: LINE answers 409 to a repeat of an
        # accepted push (developers.line.biz/en/docs/messaging-api/retrying-api-request).
        key = str(uuid.uuid5(NAMESPACE, f"line-push|{outbound['outbound_id']}|{index}"))
        return PlatformRequest("POST", f"{account.api_base_url}/v2/bot/message/push",
                               {**_auth(account), "X-Line-Retry-Key": key},
                               {"to": outbound["recipient_id"], "messages": chunk}, idempotent=True)

    # Agents' images go by URL: long-lived signed https URLs of the store, a small preview beside
    # the original (connectors/media/outbound.py).
    media_form = "url"

    def result_of(self, request: PlatformRequest, status: int, headers, body: bytes) -> SendResult:
        """sentMessages ids on 200 and on 409 (retry key already accepted); errors by status."""
        answer = body_json(body)
        if 200 <= status < 300 or status == 409:
            return SendResult(ok=True, platform_message_ids=tuple(
                str(m["id"]) for m in answer.get("sentMessages") or [] if m.get("id")))
        message = answer.get("message") or f"HTTP {status}"
        details = "; ".join(f"{d.get('property')}: {d.get('message')}" for d in answer.get("details") or [])
        reason = f"{message} ({details})" if details else message
        if status == 400 and "reply token" in message.lower():
            return SendResult(ok=False, error_code="400", reason=reason, use_fallback=True)
        if status == 429 and "monthly limit" in message.lower():  # quota: permanent until it resets
            return http_error(status, headers, "429/quota", reason, retriable=False)
        return http_error(status, headers, str(status), reason)


def _auth(account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token.get_secret_value()}"}


def _object(part: dict, attributes: dict) -> dict:
    kind = part["type"]
    if kind == "text":
        return {"type": "text", "text": part["text"]}
    if kind == "image":
        url = require_field(part, "url", rule="capability.image", reason="LINE images are sent by https URL")
        # LINE shows previewImageUrl in the chat (≤ 1 MB); without one the original is reused.
        return {"type": "image", "originalContentUrl": url,
                "previewImageUrl": part.get("preview_url") or attributes.get("preview_image_url") or url}
    if kind == "sticker":
        package = require_field(part, "sticker_package_id", rule="capability.sticker",
                                reason="LINE stickers need a package id and a sticker id")
        sticker = require_field(part, "sticker_id", rule="capability.sticker",
                                reason="LINE stickers need a package id and a sticker id")
        return {"type": "sticker", "packageId": package, "stickerId": sticker}
    raise Refused(f"capability.{kind}", f"line cannot carry {kind} content")
