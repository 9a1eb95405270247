"""Open Messaging: an integration (say, an SMS gateway) posting customer messages to the edge and
receiving agent messages on its outbound URL, with Delivered/Read receipts back."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlparse

from aiohttp import web

from .base import Platform, Reply, json_body
from .signing import open_headers, open_signature_ok, utf8_json

MEDIA = {"image": ("Image", "image/jpeg", "photo.jpg"), "video": ("Video", "video/mp4", "clip.mp4"),
         "audio": ("Audio", "audio/mpeg", "voice.mp3"), "file": ("File", "application/pdf", "statement.pdf"),
         "sticker": ("Image", "image/png", "sticker.png")}


def iso(seconds: float) -> str:
    """ISO-8601 UTC with milliseconds, as Open Messaging writes times."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class OpenMessaging(Platform):
    """An Open Messaging integration (one per Open account; its outbound_url is served here)."""

    channel = "open"
    default_prefix = "/open"
    kinds = {"text": 40, "emoji": 12, "url": 8, "email": 6, "image": 8, "file": 3, "video": 1}

    def serialize(self, payload) -> bytes:
        return utf8_json(payload)

    def sign(self, account, body: bytes) -> dict[str, str]:
        return open_headers(account.secret.get_secret_value(), body)

    # --- webhooks -------------------------------------------------------------------------------
    def event(self, account, customer, content, now_ms: int) -> dict:
        first, _, last = customer.name.partition(" ")
        sender = {"nickname": customer.name, "id": customer.open_id, "idType": customer.open_id_type,
                  "firstName": first, "lastName": last}
        message = {"channel": {"platform": "Open", "type": "Private", "messageId": f"gw-{self.digits(12)}",
                               "to": {"id": account.account_id}, "from": sender, "time": iso(now_ms / 1000)},
                   "type": "Text", "text": content.text or ""}
        if content.kind in MEDIA:
            media, mime, name = MEDIA[content.kind]
            url = f"https://files.{account.account_id}.example/mms/{self.token(12).lower()}-{name}"
            message["content"] = [{"contentType": "Attachment", "attachment": {
                "mediaType": media, "url": url, "mime": mime, "filename": name}}]
        return message

    def envelope(self, account, events: list[dict]):
        return events[0] if len(events) == 1 else events  # a batch is a JSON array (fixtures open/batch.json)

    def sender_of(self, event: dict) -> str:
        return event["channel"]["from"]["id"]

    # --- outbound (the integration's webhook) ---------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        return [web.post(urlparse(a.outbound_url).path, self.serve(self.receive)) for a in self.accounts]

    async def receive(self, request: web.Request, raw: bytes) -> Reply:
        """Verify Switchboard's signature, check the message, dedupe on id, then send receipts."""
        account = next(a for a in self.accounts if urlparse(a.outbound_url).path == request.path)
        if not open_signature_ok(account.outbound_secret.get_secret_value(), raw,
                                 request.headers.get("X-Hub-Signature-256")):
            return Reply(401, {"code": "InvalidSignature", "message": "X-Hub-Signature-256 does not match the body"})
        body = json_body(raw)
        problem = _problem(body, account.account_id) if isinstance(body, dict) else "body must be a JSON object"
        if problem:
            return Reply(400, {"code": "InvalidRequest", "message": problem})
        seen = self.state.scratch["open_ids"]
        if body["id"] in seen:  # a retry of something we accepted: answer 2xx again, no second receipt
            return Reply(200, {"id": body["id"], "status": "Duplicate"})
        seen[body["id"]] = True
        return Reply(200, {"id": body["id"], "status": "Accepted"},
                     after=lambda: self.send_receipts(account, [self._receipt(account, body, s)
                                                                for s in ("Delivered", "Read")]))

    def _receipt(self, account, message: dict, status: str):
        def make() -> dict:
            channel = {"platform": "Open", "type": "Private", "messageId": message["id"],
                       "to": message["channel"]["to"], "from": {"id": account.account_id},
                       "time": iso(self.state.clock.now())}
            return {"id": message["id"], "channel": channel, "type": "Receipt", "status": status,
                    "direction": "Outbound", "isFinalReceipt": status == "Read"}
        return make

    FAULTS = {
        "server_error": lambda p, f: Reply(500, {"code": "InternalError", "message": "gateway unavailable"}),
        "rate_limit": lambda p, f: Reply(429, {"code": "TooManyRequests", "message": "slow down"}),
    }


def _problem(body: dict, account_id: str) -> str | None:
    """What our integration refuses (docs/channels/open-messaging.md, Outbound)."""
    channel = body.get("channel") or {}
    if body.get("type") != "Text" or body.get("direction") != "Outbound":
        return "type must be Text and direction Outbound"
    if not body.get("id") or channel.get("messageId") != body["id"]:
        return "id is required and must equal channel.messageId"
    if not (channel.get("to") or {}).get("id") or (channel.get("from") or {}).get("id") != account_id:
        return f"channel.to.id is required and channel.from.id must be {account_id}"
    if not body.get("text") and not body.get("content"):
        return "text or content is required"
    return None
