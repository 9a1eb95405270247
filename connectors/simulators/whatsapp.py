"""WhatsApp Cloud API: messages webhooks (platform → edge) and POST /{phone-number-id}/messages."""
from __future__ import annotations

import base64
import time

from aiohttp import web

from . import media, whatsapp_account
from .base import Reply, json_body
from .meta import MetaPlatform, access_token, graph_error
from .whatsapp_account import catalogue, waba_of
from .whatsapp_rules import body_problem, pricing, template_problem

MEDIA = {"image": ("image", "image/jpeg"), "video": ("video", "video/mp4"), "audio": ("audio", "audio/ogg; codecs=opus"),
         "file": ("document", "application/pdf"), "sticker": ("sticker", "image/webp")}
RE_ENGAGEMENT = "Message failed to send because more than 24 hours have passed since the customer last replied to this number."


class WhatsApp(MetaPlatform):
    """A WhatsApp Business phone number on the Cloud API."""

    channel = "whatsapp"
    default_prefix = "/whatsapp/v21.0"
    kinds = {"text": 30, "emoji": 10, "url": 6, "email": 4, "image": 8, "sticker": 6, "location": 3,
             "postback": 5, "quick_reply": 5, "video": 2, "audio": 3, "file": 2}
    window_error = "status"  # Cloud API accepts a free-form message outside 24 h, then reports it failed (131047)

    # --- webhooks -------------------------------------------------------------------------------
    def event(self, account, customer, content, now_ms: int) -> dict:
        contact = {"profile": {"name": customer.name}, "wa_id": customer.phone}
        message = {"from": customer.phone, "id": self.wamid(customer.phone, "3A"),
                   "timestamp": str(now_ms // 1000), **self._typed(account, content)}
        if int(customer.psid) % 3 == 1:  # business-scoped user ids (from April 2026) on some payloads
            contact["user_id"] = message["from_user_id"] = f"US.{int(customer.psid) * 7919 % 10**20:020d}"
        if content.kind in ("postback", "quick_reply"):  # a tap on one of our messages carries its context
            message = {"context": {"from": account.display_phone_number or account.account_id,
                                   "id": self.wamid(customer.phone, "BAE5")}} | message
        return {"contact": contact, "message": message}

    def _typed(self, account, content) -> dict:
        kind = content.kind
        if kind == "location":
            return {"type": "location", "location": {"address": content.address, "latitude": content.latitude,
                                                     "longitude": content.longitude, "name": content.title}}
        if kind == "postback":
            return {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {
                "id": content.payload.lower(), "title": content.title}}}
        if kind == "quick_reply":
            return {"type": "button", "button": {"payload": content.payload, "text": content.title}}
        if kind in MEDIA:
            typ, mime = MEDIA[kind]
            media_id = self.digits(16)  # what the customer sent, fetched later by GET /{media-id}
            held = media.hold(self.state, self.channel, media_id, media.sample(self.ids, kind))
            mime = mime if typ == "audio" else held.mime_type  # voice notes: "audio/ogg; codecs=opus"
            media_ = {"mime_type": mime, "sha256": held.sha256_b64, "id": media_id}
            media_ |= {"caption": content.text} if content.text else {}
            media_ |= {"voice": True} if typ == "audio" else {"animated": False} if typ == "sticker" else {}
            media_ |= {"filename": "Statement_Feb_2025.pdf"} if typ == "document" else {}
            return {"type": typ, typ: media_}
        return {"type": "text", "text": {"body": content.text}}

    def envelope(self, account, events: list[dict]) -> dict:
        # A batch: several contacts + messages in one value, the last in a second entry (fixture batch.json).
        groups = [events] if len(events) < 3 else [events[:-1], events[-1:]]
        return self._entries(account, [{"contacts": _unique([e["contact"] for e in g]),
                                        "messages": [e["message"] for e in g]} for g in groups])

    def _entries(self, account, values: list[dict]) -> dict:
        metadata = {"display_phone_number": account.display_phone_number or "", "phone_number_id": account.account_id}
        return {"object": "whatsapp_business_account", "entry": [
            {"id": account.waba_id or account.account_id, "changes": [
                {"value": {"messaging_product": "whatsapp", "metadata": metadata, **v}, "field": "messages"}]}
            for v in values]}

    def sender_of(self, event: dict) -> str:
        return event["message"]["from"]

    def wamid(self, phone: str, prefix: str) -> str:
        """A message id in WhatsApp's format: wamid. + base64 of the number and a random hex id."""
        raw = b"\x1c\x18" + bytes([len(phone)]) + phone.encode() + b"\x15\x02\x00\x12\x18\x14"
        return "wamid." + base64.b64encode(raw + (prefix + self.token(20 - len(prefix), "0123456789ABCDEF")).encode() + b"\x00").decode()

    # --- Send API -------------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        handler = self.serve(self.send)
        templates = self.serve(lambda request, raw: whatsapp_account.list_templates(self, request, raw))
        return [route for p in self.prefixes() for route in (
            web.post(f"{p}/{{phone_number_id}}/messages", handler),
            web.get(f"{p}/{{waba_id}}/message_templates", templates),
            web.post(f"{p}/{{phone_number_id}}/media", self.upload),
            web.get(f"{p}/{{media_id:[0-9]+}}", self.media_url))] + [web.get(LOOKASIDE, self.download)]

    def control_routes(self) -> list[web.RouteDef]:
        """Template status and number quality changes, each sending its webhook (whatsapp_account)."""
        return whatsapp_account.control_routes(self)

    # --- Media API (developers.facebook.com/docs/whatsapp/cloud-api/reference/media) ------------
    async def media_url(self, request: web.Request) -> web.Response:
        """GET /{media-id} (bearer): {url, mime_type, sha256, file_size, id}; the url needs the token too."""
        if self.account_by_token(access_token(request)) is None:
            return _json(self.bad_token())
        media_id = request.match_info["media_id"]
        item = media.held(self.state, self.channel, media_id)
        if item is None:
            return _json(self.bad_param(f"Unsupported get request. Object with ID '{media_id}' does not exist", subcode=33))
        query = f"mid={media_id}&ext={int(self.state.clock.now())}&hash=AT{self.token(22)}"
        return web.json_response({"messaging_product": "whatsapp", "url": f"{request.url.origin()}{LOOKASIDE}?{query}",
                                  "mime_type": item.mime_type, "sha256": item.sha256_b64,
                                  "file_size": len(item.data), "id": media_id})

    async def download(self, request: web.Request) -> web.Response:
        """The lookaside URL: the bytes, only with a WhatsApp account's bearer token."""
        if self.account_by_token(access_token(request)) is None:
            return web.Response(status=401, text="Unauthorized")
        item = media.held(self.state, self.channel, request.query.get("mid", ""))
        return media.file_response(item) if item else web.Response(status=404, text="Not Found")

    async def upload(self, request: web.Request) -> web.Response:
        """POST /{phone-number-id}/media (multipart messaging_product, type, file) → {"id"}."""
        fields, file = await media.upload(request, "file")
        account = self.account_by_token(access_token(request))
        if account is None or request.match_info["phone_number_id"] != account.account_id:
            reply = self.bad_token() if account is None else self.bad_param("Unsupported post request.", subcode=33)
        elif fields.get("messaging_product") != "whatsapp":
            reply = self.bad_param("The parameter messaging_product is required.")
        elif file is None or not fields.get("type"):
            reply = self.bad_param("The parameter file is required." if file is None else "Param type is required.")
        else:
            media_id = self.digits(16)
            media.hold(self.state, self.channel, media_id, media.Held(file.data, fields["type"], file.name))
            reply = Reply(200, {"id": media_id})
        media.log_upload(self, request, fields, file, reply.status, reply.body)
        return _json(reply)

    async def send(self, request: web.Request, raw: bytes) -> Reply:
        """Auth, body, templates and the 24 h window; then sent/delivered/read (or failed) statuses."""
        account = self.account_by_token(access_token(request))
        if account is None:
            return self.bad_token()
        number = request.match_info["phone_number_id"]
        if number != account.account_id:
            return self.bad_param(f"Unsupported post request. Object with ID '{number}' does not exist, cannot be "
                                  "loaded due to missing permissions, or does not support this operation", subcode=33)
        body = json_body(raw)
        problem = body_problem(body) if isinstance(body, dict) else ("100", "Invalid JSON body")
        if not problem and body.get("type") == "template":
            problem = template_problem(catalogue(self, waba_of(account)), body["template"])
        if problem:
            code, message = problem
            return graph_error(self, 400, int(code), f"(#{code}) {message}", details=message)
        return self._accept(account, body)

    def _accept(self, account, body: dict) -> Reply:
        to = body["to"].lstrip("+").replace(" ", "").replace("-", "")
        template = body.get("type") == "template"
        hours = self.state.hours_since_customer(self.channel, account.account_id, to)
        outside = not template and (hours is None or hours > 24)
        if outside and self.window_error == "response":
            return graph_error(self, 400, 131047, "(#131047) Re-engagement message", details=RE_ENGAGEMENT)
        wamid = self.wamid(to, "BAE5")
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": to}],
                  "messages": [{"id": wamid} | ({"message_status": "accepted"} if template else {})]}
        statuses = ["failed"] if outside else ["sent", "delivered", "read"]
        priced = None if outside else self._pricing(account, body, inside=hours is not None and hours <= 24)
        return Reply(200, answer, after=lambda: self.send_receipts(
            account, [self._status(account, wamid, to, s, priced) for s in statuses]))

    def _pricing(self, account, body: dict, inside: bool) -> dict:
        """The rules in effect now (whatsapp_rules.pricing), counting the number's service messages
        of the calendar month (the price table's rule says how many are free)."""
        now = self.state.clock.now_ms()
        if body.get("type") != "template":
            month = time.strftime("%Y-%m", time.gmtime(now / 1000))
            counts = self.state.scratch["whatsapp_service_messages"]
            counts[(account.account_id, month)] = counts.get((account.account_id, month), 0) + 1
            return pricing("service", inside, now, counts[(account.account_id, month)])
        name, language = body["template"]["name"], body["template"]["language"]["code"]
        known = next(t for t in catalogue(self, waba_of(account)) if (t["name"], t["language"]) == (name, language))
        return pricing(known["category"].lower(), inside, now)

    def _status(self, account, wamid: str, to: str, status: str, priced: dict | None):
        def make() -> dict:
            entry = {"id": wamid, "status": status, "timestamp": str(self.state.clock.now_ms() // 1000), "recipient_id": to}
            if status == "failed":
                entry["errors"] = [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                                    "error_data": {"details": RE_ENGAGEMENT},
                                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]
            elif status != "read":
                entry["pricing"] = priced
            return self._entries(account, [{"statuses": [entry]}])
        return make

    FAULTS = {
        "outside_window": lambda p, f: graph_error(p, 400, 131047, "(#131047) Re-engagement message", details=RE_ENGAGEMENT),
        "rate_limit": lambda p, f: graph_error(p, 400, 130429, "(#130429) Rate limit hit",
                                               details="Cloud API message throughput has been reached."),
        "spam_limit": lambda p, f: graph_error(p, 400, 131048, "(#131048) Spam rate limit hit",
                                               details="Message failed to send because there are restrictions on how "
                                                       "many messages can be sent from this phone number."),
        "unsupported": lambda p, f: graph_error(p, 400, 131051, "(#131051) Unsupported message type",
                                                details="Message type is not currently supported."),
        "token": lambda p, f: p.bad_token(),
        "server_error": lambda p, f: graph_error(p, 500, 131000, "(#131000) Something went wrong",
                                                 details="Something went wrong"),
    }


LOOKASIDE = "/whatsapp-lookaside/whatsapp_business/attachments/"  # lookaside.fbsbx.com in production


def _json(reply: Reply) -> web.Response:
    return web.json_response(reply.body, status=reply.status, headers=reply.headers)


def _unique(contacts: list[dict]) -> list[dict]:
    seen, out = set(), []
    for c in contacts:
        if c["wa_id"] not in seen:
            seen.add(c["wa_id"])
            out.append(c)
    return out
