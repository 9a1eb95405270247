"""X Direct Messages: Account Activity webhooks in, v2 DM endpoint out (docs/channels/x.md)."""
from __future__ import annotations

from .base import Parsed, ParseError, PlatformRequest, Refused, SendResult
from .compose import body_json, check_capabilities, http_error, multipart, parts, signed
from .normalize import identity, inbound, item, load_json, millis, objects, require, status, text_items
from .signatures import b64_sha256

# Account Activity keys that are not DMs or read receipts (typing, follows, likes, posts, …).
IGNORED = ("direct_message_indicate_typing_events", "favorite_events", "follow_events", "block_events",
           "mute_events", "tweet_create_events", "tweet_delete_events", "user_event")


class XConnector:
    """X (Twitter) DMs for a subscribed account (`for_user_id`)."""

    channel = "x"

    def handshake(self, account, query) -> tuple[int, str, str] | None:
        """CRC: `{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}`."""
        if "crc_token" not in query:
            return None
        secret = account.signing_secrets()[0]  # the current consumer secret
        token = b64_sha256(secret, query["crc_token"].encode())
        return 200, f'{{"response_token": "{token}"}}', "application/json"

    verify = staticmethod(signed)   # x-twitter-webhooks-signature, declared in channels/x.py

    def split(self, body: bytes) -> list[tuple[str | None, str | None, bytes, int]]:
        """The body's owner: X posts one subscribed account's activity at a time (`for_user_id`)."""
        return [(str(require(_activity(body), "for_user_id")), None, body, 1)]

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """DM events (echoes of our own sends dropped) and read receipts; other activity counted."""
        data = _activity(body)
        if str(require(data, "for_user_id")) != account.account_id:
            raise ParseError(f"activity for user {data['for_user_id']} arrived at account {account.account_id}")
        out = Parsed()
        users = data.get("users") or {}
        for event in objects(data.get("direct_message_events"), "direct_message_events"):
            self._dm(account, event, users, received_at_ms, out)
        for receipt in objects(data.get("direct_message_mark_read_events"), "direct_message_mark_read_events"):
            out.statuses.append(status(account, external_id=str(require(receipt, "sender_id")), state="read",
                                       platform_message_ids=[require(receipt, "last_read_event_id")],
                                       occurred_at=millis(require(receipt, "created_timestamp"))))
        out.ignored += sum(len(data[k]) if isinstance(data[k], list) else 1 for k in IGNORED if k in data)
        return out

    def _dm(self, account, event: dict, users: dict, received_at: int, out: Parsed) -> None:
        if event.get("type") != "message_create":
            out.ignored += 1
            return
        create = require(event, "message_create")
        sender = str(require(create, "sender_id"))
        if sender == account.account_id:
            out.echoes += 1
            return
        data = create.get("message_data") or {}
        text = data.get("text")
        urls = [u.get("expanded_url") or u.get("url") for u in (data.get("entities") or {}).get("urls") or []]
        content = text_items(text, urls)  # X gives links as entities; media t.co links are not URLs to keep
        kind = "message"
        if data.get("quick_reply_response"):
            kind = "postback"
            content = [item("postback", text=text, payload=data["quick_reply_response"].get("metadata"))]
        if data.get("attachment"):
            content.append(_attachment(data["attachment"], out))
        user = users.get(sender) or {}
        out.messages.append(inbound(
            account, platform_message_id=str(require(event, "id")), kind=kind,
            occurred_at=millis(require(event, "created_timestamp")), received_at=received_at,
            sender=identity(sender, display_name=user.get("name")), text=text, content=content,
            recipient_id=str((create.get("target") or {}).get("recipient_id") or account.account_id),
            attributes={"screen_name": user.get("screen_name")}))

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """One v2 DM per part: text, or an uploaded media id with its caption."""
        check_capabilities(self.channel, outbound)
        url = f"{account.api_base_url}/2/dm_conversations/with/{outbound['recipient_id']}/messages"
        headers = {"Authorization": f"Bearer {account.access_token.get_secret_value()}"}
        return [PlatformRequest("POST", url, headers, _dm(p)) for p in parts(outbound["content"])]

    # Agents' images are uploaded first, then sent by media id (connectors/media/outbound.py).
    media_form = "upload"

    def upload_request(self, account, media, data: bytes) -> PlatformRequest:
        """POST /2/media/upload, multipart media + media_category (dm_image / dm_gif / dm_video) +
        media_type → 200 {"data": {"id", "media_key"}} (docs.x.com/x-api/media/upload-media)."""
        category = {"image/gif": "dm_gif", "video/mp4": "dm_video"}.get(media.mime_type, "dm_image")
        body, content_type = multipart([("media_category", category), ("media_type", media.mime_type)],
                                       "media", data, media.mime_type)
        headers = {"Authorization": f"Bearer {account.access_token.get_secret_value()}", "Content-Type": content_type}
        return PlatformRequest("POST", f"{account.api_base_url}/2/media/upload", headers, body=body, idempotent=True)

    def upload_result(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """data.id (the media_id a DM attaches) on success; errors as for DMs."""
        if 200 <= status_code < 300:
            media_id = (body_json(body).get("data") or {}).get("id")
            return SendResult(ok=bool(media_id), platform_message_ids=(str(media_id),) if media_id else (),
                              error_code=None if media_id else "upload", reason=None if media_id else "no media id")
        return self.result_of(request, status_code, headers, body)

    def result_of(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """data.dm_event_id on 201; 429 waits for x-rate-limit-reset; 403 (349) is permanent."""
        answer = body_json(body)
        if 200 <= status_code < 300:
            event = (answer.get("data") or {}).get("dm_event_id")
            return SendResult(ok=True, platform_message_ids=(event,) if event else ())
        v1 = (answer.get("errors") or [{}])[0] if isinstance(answer.get("errors"), list) else {}
        code = str(v1["code"]) if v1.get("code") else str(status_code)
        reason = answer.get("detail") or v1.get("message") or answer.get("title") or f"HTTP {status_code}"
        return http_error(status_code, headers, code, reason)


def _activity(body: bytes) -> dict:
    data = load_json(body)
    if not isinstance(data, dict):
        raise ParseError("not an X Account Activity event (JSON object with for_user_id)")
    return data


def _attachment(attachment: dict, out: Parsed) -> dict:
    media = attachment.get("media") or {}
    kind = media.get("type")
    if kind == "photo":
        return item("image", url=media.get("media_url_https"), media_id=media.get("id_str"))
    if kind in ("video", "animated_gif"):
        variants = [v for v in (media.get("video_info") or {}).get("variants") or [] if v.get("content_type") == "video/mp4"]
        best = max(variants, key=lambda v: v.get("bitrate", 0), default={})
        return item("video", url=best.get("url") or media.get("media_url_https"), media_id=media.get("id_str"),
                    mime_type="video/mp4" if best else None)
    out.unsupported += 1
    return item("unsupported", raw_type=str(kind or attachment.get("type")))


def _dm(part: dict) -> dict:
    kind = part["type"]
    if kind == "text":
        return {"text": part["text"]}
    if kind == "image":
        if not part.get("media_id"):
            raise Refused("capability.image_url", "X sends images as uploaded media ids: send the image "
                                                  "from the media store (media_key), which delivery uploads first")
        return {**({"text": part["text"]} if part.get("text") else {}), "attachments": [{"media_id": part["media_id"]}]}
    raise Refused(f"capability.{kind}", f"x cannot carry {kind} content")
