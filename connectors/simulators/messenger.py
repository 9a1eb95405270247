"""Facebook Messenger: Page webhooks (platform → edge) and the Send API (edge → platform)."""
from __future__ import annotations

import string
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from . import media
from .base import Reply, json_body
from .meta import MetaPlatform, access_token, graph_error

APP_ID = 1029384756102938  # the app that sends through the page (echo events carry it)
TAGS = {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "CUSTOMER_FEEDBACK"}
ATTACHMENT_TYPES = {"image", "video", "audio", "file", "template"}
MEDIA = {"image": "https://scontent.xx.fbcdn.net/v/t1.15752-9/{n}_n.jpg?_nc_cat=105&ccb=1-7&oh={t}&oe=6801A2B3",
         "video": "https://video.xx.fbcdn.net/v/t42.3356-2/{n}_n.mp4?_nc_cat=110&ccb=1-7&oh={t}&oe=67DA9F12",
         "audio": "https://cdn.fbsbx.com/v/t59.3654-21/{n}_n.mp4/audioclip-{n}.mp4?_nc_cat=108&oh={t}",
         "file": "https://cdn.fbsbx.com/v/t59.2708-21/{n}_n.pdf/Statement.pdf?_nc_cat=104&oh={t}"}
STICKER_ID, STICKER_URL = 369239263222822, "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_n.png"


class Messenger(MetaPlatform):
    """A Facebook Page's Messenger inbox as Meta runs it."""

    channel = "messenger"
    default_prefix = "/messenger/v21.0"
    kinds = {"text": 30, "emoji": 10, "url": 6, "email": 4, "image": 8, "sticker": 6, "location": 2,
             "postback": 6, "quick_reply": 6, "video": 2, "audio": 2, "file": 2}

    # --- webhooks -------------------------------------------------------------------------------
    def event(self, account, customer, content, now_ms: int) -> dict:
        base = {"sender": {"id": customer.psid}, "recipient": {"id": account.account_id}, "timestamp": now_ms}
        mid = self.mid()
        if content.kind == "postback":
            return base | {"postback": {"title": content.title, "payload": content.payload, "mid": mid}}
        return base | {"message": {"mid": mid, **self._message(account, content)}}

    def _message(self, account, content) -> dict:
        kind = content.kind
        if kind == "quick_reply":
            return {"text": content.title, "quick_reply": {"payload": content.payload}}
        if kind == "sticker":  # 2026 transition: image attachment plus the new `sticker` one (until 30 Aug 2026)
            payload = {"url": STICKER_URL, "sticker_id": STICKER_ID}
            return {"sticker_id": STICKER_ID, "attachments": [{"type": "image", "payload": payload},
                                                              {"type": "sticker", "payload": payload}]}
        if kind == "location":
            return {"attachments": [{"title": content.title, "url": "https://l.facebook.com/l.php?u=" + content.address,
                                     "type": "location", "payload": {"coordinates": {
                                         "lat": content.latitude, "long": content.longitude}}}]}
        if kind in MEDIA:
            url = self._cdn(account, kind, MEDIA[kind].format(n=self.digits(18), t=self.token(30)))
            return {"attachments": [{"type": kind, "payload": {"url": url}}]}
        return {"text": content.text}

    def _cdn(self, account, kind: str, url: str) -> str:
        """The CDN URL of a sample file, served by the simulator under /messenger-cdn/<cdn host>/…;
        like fbcdn's, it is signed by its `oh` parameter and needs no token."""
        parts, item = urlsplit(url), media.sample(self.ids, kind)
        path = f"/messenger-cdn/{parts.netloc}{parts.path.rsplit('.', 1)[0]}.{item.name.rsplit('.', 1)[1]}"
        token = parse_qs(parts.query)["oh"][0]
        media.hold(self.state, self.channel, path, media.Held(item.data, item.mime_type, item.name, token))
        return f"{media.origin(account)}{path}?{parts.query}"

    async def cdn(self, request: web.Request) -> web.Response:
        """GET a CDN URL: the bytes when its `oh` signature matches (fbcdn answers 403 "Bad URL hash")."""
        item = media.held(self.state, self.channel, request.path)
        if item is None:
            return web.Response(status=404, text="Not Found")
        if request.query.get("oh") != item.token:
            return web.Response(status=403, text="Bad URL hash")
        return media.file_response(item)

    def envelope(self, account, events: list[dict]) -> dict:
        # Meta batches by entry: one entry per event (fixtures webhooks/messenger/batch.json).
        return {"object": "page", "entry": [{"time": e["timestamp"] + 287, "id": account.account_id,
                                             "messaging": [e]} for e in events]}

    def sender_of(self, event: dict) -> str:
        return event["sender"]["id"]

    def mid(self) -> str:
        """A message id in Meta's format (m_ + 86 url-safe characters)."""
        return "m_" + self.token(86, string.ascii_letters + string.digits + "_-")

    # --- Send API -------------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        handler = self.serve(self.send)
        return [web.post(f"{p}/{{page}}/messages", handler) for p in self.prefixes()] + \
            [web.get("/messenger-cdn/{tail:.*}", self.cdn)]

    async def send(self, request: web.Request, raw: bytes) -> Reply:
        """POST /{page-id|me}/messages: auth, body, window, then echo + delivery + read receipts."""
        account = self.account_by_token(access_token(request))
        if account is None:
            return self.bad_token()
        if request.match_info["page"] not in ("me", account.account_id):
            return self.bad_param("Unsupported post request.", subcode=33)
        body = json_body(raw)
        problem = _problem(body) if isinstance(body, dict) else "Invalid JSON body"
        if problem:
            return self.bad_param(problem)
        psid = body["recipient"]["id"]
        refusal = self._window(account, psid, body)
        if refusal:
            return refusal
        mid, sent_ms = self.mid(), self.state.clock.now_ms()
        return Reply(200, {"recipient_id": psid, "message_id": mid},
                     after=lambda: self.send_receipts(account, self._receipts(account, psid, mid, sent_ms, body)))

    def _window(self, account, psid: str, body: dict) -> Reply | None:
        """Standard messaging within 24 h of the person's last message; HUMAN_AGENT up to 7 days."""
        hours = self.state.hours_since_customer(self.channel, account.account_id, psid)
        if hours is None:
            return graph_error(self, 400, 100, "(#100) No matching user found", 2018001)
        tag = body.get("tag") if body["messaging_type"] == "MESSAGE_TAG" else None
        limit = 7 * 24 if tag == "HUMAN_AGENT" else (None if tag else 24)
        if limit is not None and hours > limit:
            return graph_error(self, 400, 10, OUTSIDE_WINDOW, 2018278)
        return None

    def _receipts(self, account, psid: str, mid: str, sent_ms: int, body: dict) -> list:
        page = account.account_id
        echo = {k: v for k, v in body["message"].items() if k != "quick_replies"}
        def entry(event, sender, recipient):
            now = self.state.clock.now_ms()
            return {"object": "page", "entry": [{"time": now + 150, "id": page, "messaging": [
                {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": now, **event}]}]}
        return [lambda: entry({"message": {"mid": mid, "is_echo": True, "app_id": APP_ID, **echo}}, page, psid),
                lambda: entry({"delivery": {"mids": [mid], "watermark": sent_ms}}, psid, page),
                lambda: entry({"read": {"watermark": sent_ms}}, psid, page)]

    FAULTS = {
        "outside_window": lambda p, f: graph_error(p, 400, 10, OUTSIDE_WINDOW, 2018278),
        "rate_limit": lambda p, f: graph_error(p, 400, 613, "(#613) Calls to this api have exceeded the rate limit."),
        "unavailable": lambda p, f: graph_error(p, 400, 551, "This person isn't available right now.", 1545041),
        "token": lambda p, f: p.bad_token(),
        "server_error": lambda p, f: graph_error(p, 500, 2, "An unexpected error has occurred. Please retry your "
                                                 "request later.", is_transient=True),
    }


OUTSIDE_WINDOW = ("(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
                  "https://developers.facebook.com/docs/messenger-platform/policy-overview")


def _problem(body: dict) -> str | None:
    """What Meta would refuse in a Send API body (None: valid)."""
    if not isinstance(body.get("recipient"), dict) or not body["recipient"].get("id"):
        return "The parameter recipient is required"
    kind = body.get("messaging_type")
    if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        return "Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
    if kind == "MESSAGE_TAG" and body.get("tag") not in TAGS:
        return "Param tag must be a valid message tag with messaging_type MESSAGE_TAG"
    message = body.get("message")
    if not isinstance(message, dict):
        return "param message must be non-empty." if "sender_action" not in body else None
    contents = [k for k in ("text", "attachment", "sticker_id") if k in message]
    if len(contents) != 1:
        return "Must send exactly one of message.text, message.attachment or message.sticker_id"
    return _content_problem(message, contents[0])


def _content_problem(message: dict, kind: str) -> str | None:
    if kind == "text" and not (isinstance(message["text"], str) and 0 < len(message["text"]) <= 2000):
        return "Length of param message[text] must be less than or equal to 2000"
    if kind == "attachment":
        att = message["attachment"]
        if not isinstance(att, dict) or att.get("type") not in ATTACHMENT_TYPES:
            return "Param message[attachment][type] must be one of {IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}"
        payload = att.get("payload") or {}
        if att["type"] != "template" and not (str(payload.get("url", "")).startswith(("http://", "https://"))
                                              or payload.get("attachment_id")):
            return "Param message[attachment][payload][url] must be a valid URL"
    if kind == "sticker_id" and not isinstance(message["sticker_id"], int):
        return "Param message[sticker_id] must be a valid sticker id"
    replies = message.get("quick_replies", [])
    if len(replies) > 13 or any(r.get("content_type") == "text" and not (0 < len(r.get("title", "")) <= 20
                                                                          and r.get("payload")) for r in replies):
        return "Param message[quick_replies] is invalid"
    return None
