"""LINE Messaging API: webhooks (platform → edge) and the reply/push send APIs."""
from __future__ import annotations

import copy
import string
import time
import uuid

from aiohttp import web

from . import line_rules, media
from .base import Platform, Reply, Webhook, bearer, json_body
from .line_rules import messages_problem
from .signing import line_headers, utf8_json

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
REPLY_TOKEN_SECONDS = 60  # a reply token must be used within one minute (verified-facts.md #4)
STICKERS = [("11537", "52002734", "ANIMATION", ["Thanks", "Thank you", "Bow"]),
            ("11539", "52114110", "STATIC", ["Please", "Help", "Sad"]),
            ("446", "1988", "STATIC", ["OK", "Happy"])]
EMOJI = {"index": 0, "length": 6, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}
ULID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Line(Platform):
    """A LINE Official Account channel."""

    channel = "line"
    default_prefix = "/line"
    timeout = 2.0  # LINE expects an answer within about 2 s
    kinds = {"text": 30, "emoji": 10, "url": 6, "email": 4, "image": 8, "sticker": 10, "location": 3,
             "postback": 6, "quick_reply": 4, "video": 2, "audio": 2, "file": 2}

    def serialize(self, payload) -> bytes:
        return utf8_json(payload)

    def sign(self, account, body: bytes) -> dict[str, str]:
        return line_headers(account.channel_secret.get_secret_value(), body) | {"User-Agent": "LineBotWebhook/2.0"}

    # --- webhooks -------------------------------------------------------------------------------
    def event(self, account, customer, content, now_ms: int) -> dict:
        reply_token = self.token(32, "0123456789abcdef")
        tokens = self.state.scratch["line"]
        tokens[reply_token] = (account.account_id, customer.line_id, now_ms / 1000)
        if len(tokens) > 50_000:  # expired long ago: forget the oldest
            tokens.pop(next(iter(tokens)))
        body = ({"type": "postback", "postback": {"data": f"action={content.payload.lower()}"}}
                if content.kind == "postback" else {"type": "message", "message": self._message(content)})
        return body | {"webhookEventId": self.token(26, ULID), "deliveryContext": {"isRedelivery": False},
                       "timestamp": now_ms, "source": {"type": "user", "userId": customer.line_id},
                       "replyToken": reply_token, "mode": "active"}

    def _message(self, content) -> dict:
        head = {"id": self.digits(18), "quoteToken": self.token(88)}
        kind = content.kind
        if kind in ("image", "video", "audio", "file"):  # LINE keeps the bytes: GET …/{id}/content
            media.hold(self.state, self.channel, head["id"], media.sample(self.ids, kind))
        if kind == "sticker":
            package, sticker, resource, keywords = self.ids.choice(STICKERS)
            return {"type": "sticker", **head, "stickerId": sticker, "packageId": package,
                    "stickerResourceType": resource, "keywords": keywords}
        if kind == "location":
            return {"type": "location", "id": head["id"], "title": content.title, "address": content.address,
                    "latitude": content.latitude, "longitude": content.longitude}
        if kind in ("image", "video"):
            extra = {"duration": self.ids.randrange(2000, 60000)} if kind == "video" else {}
            return {"type": kind, **head, **extra, "contentProvider": {"type": "line"}}
        if kind == "audio":
            return {"type": "audio", "id": head["id"], "duration": self.ids.randrange(1000, 30000),
                    "contentProvider": {"type": "line"}}
        if kind == "file":
            return {"type": "file", "id": head["id"], "fileName": "契約書_2025.pdf", "fileSize": self.ids.randrange(10**4, 10**6)}
        if kind == "quick_reply":  # a quick-reply button with a message action sends its label as text
            return {"type": "text", **head, "text": content.title}
        if kind == "emoji":  # a LINE emoji arrives as "(love)" in the text, described in emojis[]
            return {"type": "text", **head, "text": f"(love) {content.text}", "emojis": [EMOJI]}
        return {"type": "text", **head, "text": content.text}

    def envelope(self, account, events: list[dict]) -> dict:
        return {"destination": account.account_id, "events": events}

    def sender_of(self, event: dict) -> str:
        return event["source"]["userId"]

    def redelivered(self, hook: Webhook) -> Webhook:
        """LINE redelivers with deliveryContext.isRedelivery true and the same webhookEventId (re-signed)."""
        payload = copy.deepcopy(hook.payload)
        for event in payload["events"]:
            event["deliveryContext"]["isRedelivery"] = True
        account = next(a for a in self.accounts if a.account_id == hook.account_id)
        return Webhook(**{**self.webhook(account, payload, hook.kind).__dict__, "redelivery": True})

    async def handshake(self, client, account) -> bool:
        """The console's Verify button: a signed POST with an empty events array, answered 200."""
        hook = self.webhook(account, {"destination": account.account_id, "events": []}, kind="verify")
        return await client._attempt(self, hook) == 200

    # --- send APIs ------------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        quota = [web.get(f"{p}/v2/bot/message/quota", self.serve(self.quota)) for p in self.prefixes()]
        quota += [web.get(f"{p}/v2/bot/message/quota/consumption", self.serve(self.consumption)) for p in self.prefixes()]
        return quota + [web.post(f"{p}/v2/bot/message/{op}", self.serve(handler)) for p in self.prefixes()
                        for op, handler in (("reply", self.reply), ("push", self.push))] + \
            [web.get(f"{p}/v2/bot/message/{{message_id}}/content", self.content) for p in self.prefixes()]

    def control_routes(self) -> list[web.RouteDef]:
        """POST /_sim/line/quota {"account_id", "limit": N or null, "used"}: the month's quota and usage."""
        async def set_quota(request: web.Request) -> web.Response:
            body = await request.json()
            account = self.sim.account(self.channel, body.get("account_id"))
            if account is None:
                raise web.HTTPNotFound(text=f"no line account {body.get('account_id') or ''}")
            quota = line_rules.quota(self.state, account.account_id)
            if "limit" in body:
                quota["limit"] = None if body["limit"] is None else int(body["limit"])
            if "used" in body:
                line_rules.pushes(self.state, account.account_id)[self._month()] = int(body["used"])
            return web.json_response(self._usage(account))
        return [web.post("/_sim/line/quota", set_quota)]

    def _month(self) -> str:
        return time.strftime("%Y-%m", time.gmtime(self.state.clock.now()))

    def _usage(self, account) -> dict:
        return {"limit": line_rules.quota(self.state, account.account_id)["limit"],
                "used": line_rules.pushes(self.state, account.account_id).get(self._month(), 0)}

    def _authorized(self, request: web.Request):
        """The account of the bearer channel token, or the 401 Reply."""
        account = self.account_by_token(bearer(request))
        return account if account is not None else Reply(401, {"message": AUTH_FAILED})

    async def quota(self, request: web.Request, raw: bytes) -> Reply:
        """GET /v2/bot/message/quota: {"type": "limited", "value": N} or {"type": "none"}."""
        account = self._authorized(request)
        if isinstance(account, Reply):
            return account
        limit = line_rules.quota(self.state, account.account_id)["limit"]
        return Reply(200, {"type": "none"} if limit is None else {"type": "limited", "value": limit})

    async def consumption(self, request: web.Request, raw: bytes) -> Reply:
        """GET /v2/bot/message/quota/consumption: {"totalUsage": N}, this month's pushes (replies are free)."""
        account = self._authorized(request)
        if isinstance(account, Reply):
            return account
        return Reply(200, {"totalUsage": self._usage(account)["used"]})

    async def content(self, request: web.Request) -> web.Response:
        """GET /v2/bot/message/{messageId}/content (api-data.line.me): the bytes, with the channel token."""
        if self.account_by_token(bearer(request)) is None:
            return web.json_response({"message": AUTH_FAILED}, status=401)
        item = media.held(self.state, self.channel, request.match_info["message_id"])
        return media.file_response(item) if item else web.json_response({"message": "Not found"}, status=404)

    def _check(self, request: web.Request, raw: bytes, target: str):
        """(account, body) or an error Reply: bearer channel token, then the body's shape."""
        if not request.headers.get("Authorization"):
            return Reply(401, {"message": "Authorization header required. Must follow the scheme, "
                                          "'Authorization: Bearer <ACCESS TOKEN>'"})
        account = self.account_by_token(bearer(request))
        if account is None:
            return Reply(401, {"message": AUTH_FAILED})
        body = json_body(raw)
        if not isinstance(body, dict) or not isinstance(body.get(target), str) or not body[target]:
            return Reply(400, {"message": f"The property, '{target}', in the request body is invalid (line: -, column: -)"})
        details = messages_problem(body.get("messages"))
        if details:
            return Reply(400, {"message": f"The request body has {len(details)} error(s)", "details": details})
        return account, body

    async def reply(self, request: web.Request, raw: bytes) -> Reply:
        """POST /v2/bot/message/reply: a single-use reply token, valid for one minute."""
        checked = self._check(request, raw, "replyToken")
        if isinstance(checked, Reply):
            return checked
        account, body = checked
        issued = self.state.scratch["line"].pop(body["replyToken"], None)
        if issued is None or issued[0] != account.account_id or self.state.clock.now() - issued[2] > REPLY_TOKEN_SECONDS:
            return Reply(400, {"message": "Invalid reply token"})
        return self._sent(body)

    async def push(self, request: web.Request, raw: bytes) -> Reply:
        """POST /v2/bot/message/push: X-Line-Retry-Key makes it idempotent (a repeated key answers 409);
        beyond the month's quota 429 "You have reached your monthly limit." (replies do not count)."""
        checked = self._check(request, raw, "to")
        if isinstance(checked, Reply):
            return checked
        account, body = checked
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and not _is_uuid(key):
            return Reply(400, {"message": "The value of the X-Line-Retry-Key header is invalid"})
        accepted = self.state.scratch["line_retry_keys"]
        if key in accepted:
            request_id, sent = accepted[key]
            return Reply(409, {"message": "The retry key is already accepted", "sentMessages": sent},
                         {"x-line-accepted-request-id": request_id})
        pushed = line_rules.pushes(self.state, account.account_id)
        limit = line_rules.quota(self.state, account.account_id)["limit"]
        if limit is not None and pushed.get(self._month(), 0) >= limit:
            return Reply(429, {"message": line_rules.QUOTA_REACHED})
        reply = self._sent(body)
        pushed[self._month()] = pushed.get(self._month(), 0) + 1  # per recipient, not per message object
        if key is not None:
            accepted[key] = (reply.headers["x-line-request-id"], reply.body["sentMessages"])
        return reply

    def _sent(self, body: dict) -> Reply:
        """Success: sentMessages[{id, quoteToken}] (LINE sends no delivery or read receipts)."""
        sent = [{"id": self.digits(18), "quoteToken": self.token(88)} for _ in body["messages"]]
        return Reply(200, {"sentMessages": sent}, {"x-line-request-id": str(uuid.UUID(int=self.ids.getrandbits(128)))})

    FAULTS = {
        "rate_limit": lambda p, f: Reply(429, {"message": "The API rate limit has been exceeded. Try again later."}),
        "quota": lambda p, f: Reply(429, {"message": line_rules.QUOTA_REACHED}),
        "token": lambda p, f: Reply(401, {"message": AUTH_FAILED}),
        "invalid_reply_token": lambda p, f: Reply(400, {"message": "Invalid reply token"}),
        "server_error": lambda p, f: Reply(500, {"message": "An error occurred in the server."}),
    }


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return len(value) == 36 and set(value.lower()) <= set(string.hexdigits.lower() + "-")
    except ValueError:
        return False
