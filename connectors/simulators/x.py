"""X Direct Messages: Account Activity webhooks (platform → edge) and the v2 / v1.1 DM send APIs."""
from __future__ import annotations

from aiohttp import web

from . import media
from .base import Platform, Reply, bearer, json_body
from .signing import utf8_json, x_crc_response, x_headers

WEB_APP = {"3033300": {"id": "3033300", "name": "X Web App", "url": "https://x.com"}}
OUR_APP_ID = "29384756"  # the app Switchboard sends through (echo events carry it)
MAX_TEXT = 10_000
ALLOWANCE = 5  # messages per inbound DM within 24 h (docs/channels/x.md, "Policy limits")
INVALID = {"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
           "type": "https://api.twitter.com/2/problems/invalid-request"}
FORBIDDEN = {"title": "Forbidden", "detail": "You are not permitted to send Direct Messages to this user.",
             "type": "about:blank", "status": 403}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


class X(Platform):
    """An X account subscribed to the Account Activity API."""

    channel = "x"
    default_prefix = "/x"
    timeout = 3.0  # X expects the answer within 3 s
    kinds = {"text": 40, "emoji": 12, "url": 8, "email": 4, "image": 8, "video": 2, "postback": 6, "quick_reply": 4}

    def serialize(self, payload) -> bytes:
        return utf8_json(payload)

    def sign(self, account, body: bytes) -> dict[str, str]:
        return x_headers(account.consumer_secret.get_secret_value(), body)

    async def handshake(self, client, account) -> bool:
        """CRC: GET ?crc_token=…, answered {"response_token": "sha256=<base64 HMAC>"}."""
        token = self.token(24)
        status, text = await client.get(self.channel, account.account_id, {"crc_token": token})
        expected = x_crc_response(account.consumer_secret.get_secret_value(), token)
        return status == 200 and json_body(text.encode()) == {"response_token": expected}

    # --- webhooks -------------------------------------------------------------------------------
    def event(self, account, customer, content, now_ms: int) -> dict:
        data = {"text": content.text or "", "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
        if content.kind == "url":  # X wraps links in t.co and describes them in entities.urls
            short = f"https://t.co/{self.token(10)}"
            data["text"] = content.text.replace(content.url, short)
            start = data["text"].index(short)
            display = content.url.split("://", 1)[1]
            data["entities"]["urls"].append({"url": short, "expanded_url": content.url, "indices": [start, start + len(short)],
                                             "display_url": display if len(display) <= 26 else display[:25] + "…"})
        if content.kind in ("image", "video"):
            data["attachment"] = self._media(account, data, content.kind)
        if content.kind in ("postback", "quick_reply"):
            data["quick_reply_response"] = {"type": "options", "metadata": content.payload}
        event_id = self.digits(19)
        self.state.scratch["x_users"][customer.x_id] = customer
        return {"type": "message_create", "id": event_id, "created_timestamp": str(now_ms), "message_create": {
            "target": {"recipient_id": account.account_id}, "sender_id": customer.x_id, "source_app_id": "3033300",
            "message_data": data}}

    def _media(self, account, data: dict, kind: str) -> dict:
        short, media_id = f"https://t.co/{self.token(10)}", self.digits(19)
        data["text"] = f"{data['text']} {short}".lstrip()
        start = data["text"].index(short)
        url = self._ton(account, f"/1.1/ton/data/dm/{media_id}/{self.token(8)}", "image")  # a video's: its still
        extra = {"video_info": {"aspect_ratio": [16, 9], "duration_millis": 4200, "variants": [
            {"bitrate": 832000, "content_type": "video/mp4", "url": self._ton(account, f"/dm_video/{media_id}/vid/640x360/"
                                                                               f"{self.token(12)}", "video")}]}} \
            if kind == "video" else {}
        return {"type": "media", "media": extra | {"id": int(media_id), "id_str": media_id, "indices": [start, start + len(short)],
                                           "media_url": url, "media_url_https": url, "url": short,
                                           "display_url": f"pic.x.com/{short[-10:]}", "type": "photo" if kind == "image" else "video",
                                           "expanded_url": f"https://x.com/messages/media/{media_id}"}}

    def _ton(self, account, path: str, kind: str) -> str:
        """A sample file at a ton.twitter.com-like URL the simulator serves (only with the account's token)."""
        item = media.sample(self.ids, kind)
        path = f"/x-ton{path}.{item.name.rsplit('.', 1)[1]}"
        media.hold(self.state, self.channel, path, item)
        return f"{media.origin(account)}{path}"

    async def ton(self, request: web.Request) -> web.Response:
        """GET a DM media URL: X serves DM media only to the conversation's authenticated user."""
        if self.account_by_token(bearer(request)) is None:
            return web.Response(status=401, text="Unauthorized")
        item = media.held(self.state, self.channel, request.path)
        return media.file_response(item) if item else web.Response(status=404, text="Not Found")

    async def upload(self, request: web.Request) -> web.Response:
        """POST /2/media/upload (multipart media, media_category, media_type) → {"data": {"id", "media_key", …}}."""
        fields, file = await media.upload(request, "media")
        if self.account_by_token(bearer(request)) is None:
            reply = Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        elif file is None or fields.get("media_category") not in ("dm_image", "dm_gif", "dm_video"):
            problem = "media is required." if file is None else "media_category must be dm_image, dm_gif or dm_video for DMs."
            reply = Reply(400, {"errors": [{"parameters": {}, "message": problem}], **INVALID})
        else:
            media_id = self.digits(19)
            self.state.scratch["x_uploads"][media_id] = media.Held(file.data, fields.get("media_type", ""), file.name)
            reply = Reply(200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(file.data),
                                         "expires_after_secs": 86400,
                                         "image": {"image_type": fields.get("media_type")}}})
        media.log_upload(self, request, fields, file, reply.status, reply.body)
        return web.json_response(reply.body, status=reply.status)

    def envelope(self, account, events: list[dict], key: str = "direct_message_events") -> dict:
        people = {e.get("sender_id") or e["message_create"]["sender_id"] for e in events}
        users = {uid: self._user(uid) for uid in sorted(people | {account.account_id})}
        return {"for_user_id": account.account_id, key: events, "apps": WEB_APP, "users": users}

    def _user(self, uid: str) -> dict:
        c = self.state.scratch["x_users"].get(uid)
        name, handle = (c.name, c.x_handle) if c else ("Support", f"support{uid[-4:]}")
        image = f"pbs.twimg.com/profile_images/{uid}/avatar_normal.jpg"
        user = {"id": uid, "created_timestamp": "1537012345000", "name": name, "screen_name": handle,
                "location": "", "description": "", "protected": False, "verified": c is None,
                "followers_count": 312, "friends_count": 480, "statuses_count": 2291,
                "profile_image_url": f"http://{image}", "profile_image_url_https": f"https://{image}"}
        return user if c else user | {"url": "https://t.co/Zx9Qw2Lp7M"}  # the business profile links its site

    def sender_of(self, event: dict) -> str:
        return event["message_create"]["sender_id"]

    # --- send APIs ------------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        return [route for p in self.prefixes() for route in (
            web.post(f"{p}/2/dm_conversations/with/{{participant_id}}/messages", self.serve(self.send_v2)),
            web.post(f"{p}/1.1/direct_messages/events/new.json", self.serve(self.send_v1)),
            web.post(f"{p}/2/media/upload", self.upload))] + [web.get("/x-ton/{tail:.*}", self.ton)]

    async def send_v2(self, request: web.Request, raw: bytes) -> Reply:
        """POST /2/dm_conversations/with/{participant_id}/messages → 201 {data: {dm_conversation_id, dm_event_id}}."""
        account = self.account_by_token(bearer(request))
        if account is None:
            return Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        body, user = json_body(raw), request.match_info["participant_id"]
        problem = _problem(body.get("text"), body.get("attachments")) if isinstance(body, dict) else "body must be JSON"
        if problem:
            return Reply(400, {"errors": [{"parameters": {}, "message": problem}], **INVALID})
        refusal = self._allowance(account, user)
        if refusal:
            return refusal
        event_id = self.digits(19)
        low, high = sorted((user, account.account_id), key=int)
        return Reply(201, {"data": {"dm_conversation_id": f"{low}-{high}", "dm_event_id": event_id}},
                     after=lambda: self.send_receipts(account, self._receipts(account, user, event_id, body.get("text", ""))))

    async def send_v1(self, request: web.Request, raw: bytes) -> Reply:
        """POST /1.1/direct_messages/events/new.json (legacy) → 200 {event: …}."""
        account = self.account_by_token(bearer(request))
        if account is None:
            return Reply(401, {"errors": [{"code": 89, "message": "Invalid or expired token."}]})
        body = json_body(raw)
        try:
            mc = body["event"]["message_create"]
            user, data = mc["target"]["recipient_id"], mc["message_data"]
        except (TypeError, KeyError):
            return Reply(400, {"errors": [{"code": 214, "message": "event.message_create is required."}]})
        if _problem(data.get("text"), None):
            return Reply(400, {"errors": [{"code": 354, "message": "The text of your direct message is over the max character limit."}]})
        refusal = self._allowance(account, user)
        if refusal:
            return Reply(refusal.status, {"errors": [{"code": 349 if refusal.status == 403 else 88,
                                                      "message": "You cannot send messages to this user."
                                                      if refusal.status == 403 else "Rate limit exceeded"}]}, refusal.headers)
        event_id = self.digits(19)
        event = {"type": "message_create", "id": event_id, "created_timestamp": str(self.state.clock.now_ms()),
                 "message_create": {"target": {"recipient_id": user}, "sender_id": account.account_id, "message_data": data}}
        return Reply(200, {"event": event},
                     after=lambda: self.send_receipts(account, self._receipts(account, user, event_id, data.get("text", ""))))

    def _allowance(self, account, user: str) -> Reply | None:
        """403 if the user never wrote to us; 429 past 5 messages per inbound DM or 24 h after it."""
        hours = self.state.hours_since_customer(self.channel, account.account_id, user)
        if hours is None:
            return Reply(403, FORBIDDEN)
        since = self.state.last_inbound[(self.channel, account.account_id, user)]
        used = self.state.scratch["x_allowance"]
        count = used.get((account.account_id, user, since), 0) + 1
        reset = str(int(since + 24 * 3600))
        if hours > 24 or count > ALLOWANCE:
            return Reply(429, TOO_MANY, {"x-rate-limit-limit": str(ALLOWANCE), "x-rate-limit-remaining": "0",
                                         "x-rate-limit-reset": reset})
        used[(account.account_id, user, since)] = count
        return None

    def _receipts(self, account, user: str, event_id: str, text: str) -> list:
        """X echoes our own DM to the webhook, then (optionally) reports the user read it."""
        echo = {"type": "message_create", "id": event_id, "created_timestamp": str(self.state.clock.now_ms()),
                "message_create": {"target": {"recipient_id": user}, "sender_id": account.account_id,
                                   "source_app_id": OUR_APP_ID, "message_data": {"text": text, "entities": {
                                       "hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}}}
        read = lambda: self.envelope(account, [{"created_timestamp": str(self.state.clock.now_ms()), "sender_id": user,
                                                "target": {"recipient_id": account.account_id},
                                                "last_read_event_id": event_id}], "direct_message_mark_read_events")
        return [lambda: self.envelope(account, [echo]), read]

    FAULTS = {
        "rate_limit": lambda p, f: Reply(429, TOO_MANY, {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                                                        "x-rate-limit-reset": str(int(p.state.clock.now()) + (f.retry_after or 900))}),
        "forbidden": lambda p, f: Reply(403, FORBIDDEN),
        "token": lambda p, f: Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
        "server_error": lambda p, f: Reply(503, {"title": "Service Unavailable", "detail": "Service Unavailable",
                                                 "type": "about:blank", "status": 503}),
    }


def _problem(text, attachments) -> str | None:
    """What X refuses in a DM: no content, text over 10,000 characters, more than one media id."""
    if text is None and not attachments:
        return "One of text or attachments is required."
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        return f"text must be a string of at most {MAX_TEXT} characters."
    if attachments is not None and not (isinstance(attachments, list) and len(attachments) == 1
                                        and str(attachments[0].get("media_id", "")).isdigit()):
        return "attachments must hold one media_id."
    return None
