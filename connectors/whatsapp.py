"""WhatsApp Cloud API: `messages` webhooks in, POST /{phone-number-id}/messages out
(docs/channels/whatsapp.md)."""
from __future__ import annotations

from . import meta
from .base import Parsed, ParseError, PlatformRequest, Refused, SendResult
from .compose import body_json, check_capabilities, multipart, parts, require_field, signed
from .normalize import identity, inbound, item, load_json, location, millis, objects, require, status, text_items
from .whatsapp_account import account_change

MEDIA = {"image": "image", "video": "video", "audio": "audio", "document": "file", "sticker": "sticker"}
# Coexistence numbers (WhatsApp Business app users) get a customer's edits and deletions.
CHANGES = {"edit": "edit", "revoke": "unsend"}


class WhatsAppConnector:
    """WhatsApp Business: entry[].changes[].value with contacts, messages and statuses."""

    channel = "whatsapp"
    handshake = staticmethod(meta.handshake)
    verify = staticmethod(signed)   # X-Hub-Signature-256 (hex), declared in channels/whatsapp.py

    def split(self, body: bytes) -> list[tuple[str | None, str | None, bytes, int]]:
        """The body per owner of each change: a `messages` change is its phone number's
        (`value.metadata.phone_number_id`), any other its WhatsApp Business Account's (`entry.id`)."""
        data = _waba_webhook(body)
        pieces = []
        for entry in objects(data["entry"], "entry"):
            for change in objects(entry.get("changes"), "changes"):
                owner = (str(require(change, "value", "metadata", "phone_number_id")), None) \
                    if change.get("field") == "messages" else (None, str(entry.get("id") or ""))
                pieces.append((owner, {**entry, "changes": [change]}))
        return meta.by_owner(data, body, pieces)

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """Every message and status of every change of every entry; account-level fields (template
        status, quality and messaging limit, account updates) as account events; others counted."""
        data = _waba_webhook(body)
        out = Parsed()
        for entry in objects(data["entry"], "entry"):
            for change in objects(entry.get("changes"), "changes"):
                if change.get("field") == "messages":
                    self._value(account, require(change, "value"), received_at_ms, out)
                    continue
                event = account_change(account, entry, change, received_at_ms)
                if event is None:
                    out.ignored += 1  # a field we do not know (or another WABA's): counted, never an error
                else:
                    out.account_events.append(event)
        return out

    def _value(self, account, value: dict, received_at: int, out: Parsed) -> None:
        number = str(require(value, "metadata", "phone_number_id"))
        if number != account.account_id:
            raise ParseError(f"value for phone number {number} arrived at account {account.account_id}")
        profiles = {}
        for contact in value.get("contacts") or []:
            for key in (contact.get("wa_id"), contact.get("user_id")):
                if key:
                    profiles[key] = contact
        for message in value.get("messages") or []:
            out.messages.append(self._message(account, message, profiles, received_at, out))
        for receipt in value.get("statuses") or []:
            out.statuses.append(self._status(account, receipt))

    def _message(self, account, message: dict, profiles: dict, received_at: int, out: Parsed) -> dict:
        phone, bsuid = message.get("from"), message.get("from_user_id")
        if not (phone or bsuid):
            raise ParseError("message without from / from_user_id")
        contact = profiles.get(phone) or profiles.get(bsuid) or {}
        profile = contact.get("profile") or {}
        # The phone when WhatsApp shows it, else the business-scoped user id (username era).
        sender = identity(phone or bsuid, "phone" if phone else "platform_id", display_name=profile.get("name"),
                          phone=phone, platform_user_id=bsuid if phone else None)
        system = message.get("system") or {} if message.get("type") == "system" else {}
        change = message.get(message["type"]) or {} if message.get("type") in CHANGES else None
        kind, text, content = self._content(message, out) if change is None else self._changed(message, change, out)
        context = (change or {}).get("message", {}).get("context") or message.get("context") or {}
        product = context.get("referred_product") or {}
        return inbound(account, platform_message_id=require(message, "id"), kind=kind,
                       occurred_at=millis(require(message, "timestamp")) * 1000, received_at=received_at,
                       sender=sender, text=text, content=content,
                       reply_to_message_id=context.get("id") or (message.get("reaction") or {}).get("message_id"),
                       forwarded=context.get("forwarded") or context.get("frequently_forwarded"),
                       frequently_forwarded=context.get("frequently_forwarded"),
                       target_message_id=(change or {}).get("original_message_id"),
                       attributes={"profile_name": profile.get("name"), "username": profile.get("username"),
                                   # a system message: user_changed_number names the new number (wa_id)
                                   "system_type": system.get("type"), "new_wa_id": system.get("wa_id"),
                                   "error_code": _first_error_code(message),
                                   # "Message business" on a product: the product the customer asks about
                                   "referred_product_catalog_id": product.get("catalog_id"),
                                   "referred_product_retailer_id": product.get("product_retailer_id"),
                                   **_referral(message.get("referral"))})

    def _changed(self, message: dict, change: dict, out: Parsed) -> tuple[str, str | None, list[dict]]:
        """An edit carries the new version of the message, a revoke only the original's id
        (webhooks/reference/messages/edit and …/revoke)."""
        _, text, content = self._content(change["message"], out) if change.get("message") else ("", None, [])
        return CHANGES[message["type"]], text, content

    def _content(self, message: dict, out: Parsed) -> tuple[str, str | None, list[dict]]:
        kind, body = message.get("type"), message.get(message.get("type") or "") or {}
        if kind == "contacts":  # one item per shared card (webhooks/reference/messages/contacts)
            return "message", None, [item("contact", title=_card(c)["name"], contact=_card(c)) for c in message["contacts"]]
        if kind == "order":  # a cart from the catalog (webhooks/reference/messages/order)
            return "message", body.get("text"), [item("order", text=body.get("text"), order=_order(body))]
        if kind == "text":
            return "message", body.get("body"), text_items(body.get("body"))
        if kind == "system":   # not the customer writing: a platform notice (webhooks/reference/messages/system)
            return "other", body.get("body"), []
        if kind in MEDIA:
            return "message", body.get("caption"), [item(MEDIA[kind], media_id=body.get("id"), mime_type=body.get("mime_type"),
                                                         text=body.get("caption"), title=body.get("filename"))]
        if kind == "location":  # body.url is the place's website, not a map: the map link replaces it
            return "message", None, [location(body.get("latitude"), body.get("longitude"),
                                              title=body.get("name"), address=body.get("address"))]
        if kind == "interactive":  # reply buttons and list rows on our messages: postbacks
            reply = body.get("button_reply") or body.get("list_reply") or {}
            return "postback", reply.get("title"), [item("postback", text=reply.get("title"), payload=reply.get("id"))]
        if kind == "button":  # a template's quick-reply button
            return "message", body.get("text"), [item("quick_reply", text=body.get("text"), payload=body.get("payload"))]
        if kind == "reaction":
            return "reaction", None, [item("reaction", text=body.get("emoji"))]
        out.unsupported += 1
        raw = (message.get("unsupported") or {}).get("type") or kind
        return "message", None, [item("unsupported", raw_type=str(raw))]

    def _status(self, account, receipt: dict) -> dict:
        customer = receipt.get("recipient_id") or receipt.get("recipient_user_id")
        if not customer:
            raise ParseError("status without recipient_id / recipient_user_id")
        error = (receipt.get("errors") or [{}])[0]
        return status(account, external_id=customer, state=require(receipt, "status"),
                      platform_message_ids=[require(receipt, "id")],
                      occurred_at=millis(require(receipt, "timestamp")) * 1000,
                      error_code=str(error["code"]) if error.get("code") else None,
                      error_reason=(error.get("error_data") or {}).get("details") or error.get("title")) | _pricing(receipt)

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """One call per part (text, image by link, sticker by media id) or one template call."""
        check_capabilities(self.channel, outbound)
        url = f"{account.api_base_url}/{account.account_id}/messages"
        envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": outbound["recipient_id"]}
        objects = [_template(outbound["template"])] if outbound.get("template") else []
        objects += [_object(p) for p in parts(outbound["content"])]
        return [PlatformRequest("POST", url, meta.bearer(account), {**envelope, **o}) for o in objects]

    # Agents' images are uploaded first, then sent by id (connectors/media/outbound.py).
    media_form = "upload"

    def upload_request(self, account, media, data: bytes) -> PlatformRequest:
        """POST /{phone-number-id}/media, multipart messaging_product + type + file → {"id"}
        (developers.facebook.com/docs/whatsapp/cloud-api/reference/media#upload-media)."""
        body, content_type = multipart([("messaging_product", "whatsapp"), ("type", media.mime_type)],
                                       "file", data, media.mime_type)
        headers = {**meta.bearer(account), "Content-Type": content_type}
        # A repeated upload only makes a second media id: safe to retry after a lost answer.
        return PlatformRequest("POST", f"{account.api_base_url}/{account.account_id}/media", headers,
                               body=body, idempotent=True)

    def upload_result(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """The media id on success (as platform_message_ids[0]); Graph errors by code."""
        if 200 <= status_code < 300:
            media_id = body_json(body).get("id")
            return SendResult(ok=bool(media_id), platform_message_ids=(str(media_id),) if media_id else (),
                              error_code=None if media_id else "upload", reason=None if media_id else "no media id")
        return meta.graph_error(status_code, headers, body)

    def result_of(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """messages[].id (the wamid later seen in statuses) on success; Graph errors by code."""
        if 200 <= status_code < 300:
            ids = tuple(m["id"] for m in body_json(body).get("messages") or [] if m.get("id"))
            return SendResult(ok=True, platform_message_ids=ids)
        return meta.graph_error(status_code, headers, body)


def _waba_webhook(body: bytes) -> dict:
    data = load_json(body)
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account" \
            or not isinstance(data.get("entry"), list):
        raise ParseError("not a WhatsApp webhook (object 'whatsapp_business_account' with entry[])")
    return data


def _card(card: dict) -> dict:
    """A WhatsApp contacts[] card as a ContentItem v2 Contact."""
    name, org = card.get("name") or {}, card.get("org") or {}
    addresses = [", ".join(filter(None, (a.get(k) for k in ("street", "city", "state", "zip", "country"))))
                 for a in card.get("addresses") or []]
    return {"name": name.get("formatted_name") or " ".join(filter(None, (name.get("first_name"), name.get("last_name")))),
            "first_name": name.get("first_name"), "last_name": name.get("last_name"),
            "organization": " / ".join(filter(None, (org.get("company"), org.get("department"), org.get("title")))) or None,
            "birthday": card.get("birthday"), "phones": _points(card, "phones", "phone"),
            "emails": _points(card, "emails", "email"), "urls": _points(card, "urls", "url"),
            "addresses": [{"value": v, "label": a.get("type"), "wa_id": None}
                          for v, a in zip(addresses, card.get("addresses") or []) if v]}


def _points(card: dict, key: str, field: str) -> list[dict]:
    return [{"value": str(p[field]), "label": p.get("type"), "wa_id": p.get("wa_id")}
            for p in card.get(key) or [] if p.get(field)]


def _order(order: dict) -> dict:
    """A WhatsApp order as a ContentItem v2 Order."""
    return {"catalog_id": order.get("catalog_id"), "items": [
        {"product_retailer_id": str(require(p, "product_retailer_id")), "quantity": int(p.get("quantity") or 1),
         "item_price": float(p["item_price"]) if p.get("item_price") is not None else None,
         "currency": p.get("currency")} for p in order.get("product_items") or []]}


def _referral(referral: dict | None) -> dict:
    """A click-to-WhatsApp ad's (or post's) referral {source_url, source_id, source_type ad|post,
    headline, body, media_type, ctwa_clid} as attributes (meta.referral); WhatsApp carries no ref."""
    if not referral:
        return {}
    return meta.referral(source=referral.get("source_type"), source_id=referral.get("source_id"),
                         ctwa_clid=referral.get("ctwa_clid"), headline=referral.get("headline"))


def _pricing(receipt: dict) -> dict:
    """A status's pricing {billable, pricing_model CBP|PMP, type, category} and conversation
    {id, origin.type, expiration_timestamp} as delivery-status v2 fields (webhooks/reference/messages/status):
    the sink prices the delivered ones (switchboard/pricing.py)."""
    pricing, conversation = receipt.get("pricing") or {}, receipt.get("conversation") or {}
    expires = conversation.get("expiration_timestamp")
    return {"pricing_category": pricing.get("category"), "pricing_model": pricing.get("pricing_model"),
            "billable": pricing["billable"] if isinstance(pricing.get("billable"), bool) else None,
            "pricing_type": pricing.get("type"), "conversation_origin": (conversation.get("origin") or {}).get("type"),
            "platform_conversation_id": conversation.get("id"),
            "conversation_expires_at": millis(expires) * 1000 if expires else None}


def _first_error_code(message: dict) -> str | None:
    errors = message.get("errors") or []
    return str(errors[0].get("code")) if errors and errors[0].get("code") else None


def _object(part: dict) -> dict:
    kind = part["type"]
    if kind == "text":  # preview_url renders a link preview when the text has a URL
        return {"type": "text", "text": {"preview_url": "http" in part["text"], "body": part["text"]}}
    if kind == "image":
        image = {"id": part["media_id"]} if part.get("media_id") else {
            "link": require_field(part, "url", rule="capability.image", reason="WhatsApp images need a link or media id")}
        return {"type": "image", "image": {**image, **({"caption": part["text"]} if part.get("text") else {})}}
    if kind == "sticker":
        sticker = require_field(part, "media_id", "sticker_id", rule="capability.sticker",
                                reason="WhatsApp stickers are sent by uploaded media id (WebP 512x512)")
        return {"type": "sticker", "sticker": {"id": sticker}}
    raise Refused(f"capability.{kind}", f"whatsapp cannot carry {kind} content")


def _template(template: dict) -> dict:
    parameters = [{"type": "text", "text": p} for p in template.get("parameters") or []]
    body = {"name": template["name"], "language": {"code": template["language"]}}
    if parameters:
        body["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": body}
