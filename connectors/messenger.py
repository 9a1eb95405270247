"""Facebook Messenger: Page webhooks in, the Send API out (docs/channels/messenger.md)."""
from __future__ import annotations

from . import meta
from .base import Parsed, ParseError, PlatformRequest, Refused, SendResult
from .compose import body_json, check_capabilities, parts, require_field, signed
from .normalize import identity, inbound, item, load_json, location, millis, objects, require, status, text_items

MEDIA = {"image": "image", "video": "video", "audio": "audio", "file": "file"}
# Messenger's referral sources (webhook reference, messaging_referrals) in the channel-neutral words
# of the attributes: an ad is `ad` on every channel; the others lower-cased (shortlink = an m.me link).
SOURCES = {"ADS": "ad"}
# The messaging events parsed; every other one (a field Meta adds included) is counted as ignored.
MODELLED = {"message", "postback", "message_edit", "referral", "delivery", "read"}


class MessengerConnector:
    """Messenger Platform: `object: page`, entry[].messaging[] events, Graph Send API."""

    channel = "messenger"
    handshake = staticmethod(meta.handshake)
    verify = staticmethod(signed)   # X-Hub-Signature-256 (hex), declared in channels/messenger.py

    def split(self, body: bytes) -> list[tuple[str | None, str | None, bytes, int]]:
        """The body per Page its entries are for (`entry[].id`): one app's callback carries all its Pages."""
        data = _page_webhook(body)
        return meta.by_owner(data, body, [((str(require(entry, "id")), None), entry)
                                          for entry in objects(data["entry"], "entry")])

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed:
        """Every messaging event of every entry (all the account's: `split` routed them): messages,
        postbacks, delivery and read receipts."""
        data = _page_webhook(body)
        out = Parsed()
        for entry in objects(data["entry"], "entry"):
            if str(require(entry, "id")) != account.account_id:
                raise ParseError(f"entry for page {entry['id']} arrived at account {account.account_id}")
            for event in objects(entry.get("messaging"), "messaging"):
                self._event(account, event, received_at_ms, out)
            out.ignored += len(entry.get("standby") or []) + len(entry.get("changes") or [])
        return out

    def _event(self, account, event: dict, received_at: int, out: Parsed) -> None:
        if not MODELLED & event.keys():
            out.ignored += 1  # reactions, optins, handovers, app_roles, policy-enforcement (no sender): not modelled
            return
        customer = str(require(event, "sender", "id"))
        when = millis(require(event, "timestamp"))
        if "message" in event:
            if event["message"].get("is_echo"):
                out.echoes += 1
                return
            out.messages.append(self._message(account, event, customer, when, received_at, out))
        elif "postback" in event:
            out.messages.append(self._postback(account, event, customer, when, received_at))
        elif "message_edit" in event:
            out.messages.append(self._edit(account, event, customer, when, received_at))
        elif "referral" in event:   # messaging_referrals: an m.me link or ad opened an existing thread
            out.messages.append(self._referral(account, event, customer, when, received_at))
        else:   # delivery or read
            state = "delivered" if "delivery" in event else "read"
            receipt = event.get("delivery") or event.get("read") or {}
            out.statuses.append(status(account, external_id=customer, state=state, occurred_at=when,
                                       platform_message_ids=receipt.get("mids") or [],
                                       watermark=receipt.get("watermark")))

    def _message(self, account, event, customer, when, received_at, out: Parsed) -> dict:
        message = event["message"]
        mid = require(message, "mid")
        content = text_items(message.get("text"))
        if message.get("quick_reply"):
            content.append(item("quick_reply", text=message.get("text"), payload=message["quick_reply"].get("payload")))
        content += self._attachments(message, out)
        return inbound(account, platform_message_id=mid, occurred_at=when, received_at=received_at,
                       sender=identity(customer), text=message.get("text"), content=content,
                       recipient_id=(event.get("recipient") or {}).get("id"),
                       reply_to_message_id=(message.get("reply_to") or {}).get("mid"),
                       attributes=_referral(message.get("referral")))

    def _attachments(self, message: dict, out: Parsed) -> list[dict]:
        items, sticker = [], message.get("sticker_id")
        if sticker:  # one sticker, whether it came as image, `sticker` attachment or both (2026 transition)
            first = (message.get("attachments") or [{}])[0].get("payload") or {}
            items.append(item("sticker", sticker_id=str(sticker), url=first.get("url")))
        for attachment in message.get("attachments") or []:
            kind, payload = attachment.get("type"), attachment.get("payload") or {}
            if sticker and (kind == "sticker" or payload.get("sticker_id")):
                continue
            if kind in MEDIA:
                items.append(item(MEDIA[kind], url=payload.get("url")))
            elif kind == "location":  # attachment.url is a redirect through l.facebook.com: the map link replaces it
                point = payload.get("coordinates") or {}
                items.append(location(point.get("lat"), point.get("long"), title=attachment.get("title")))
            elif kind == "fallback":
                items.append(item("url", url=attachment.get("url") or payload.get("url"), title=attachment.get("title")))
            else:
                out.unsupported += 1
                items.append(item("unsupported", raw_type=str(kind), url=payload.get("url"), title=payload.get("title")))
        return items

    def _edit(self, account, event, customer, when, received_at) -> dict:
        """message_edits: the new text of an earlier message; each edit (≤ 5, num_edit) is its own event."""
        edit = event["message_edit"]
        mid, text = require(edit, "mid"), edit.get("text")
        return inbound(account, platform_message_id=f"{mid}#edit{edit.get('num_edit', '')}", kind="edit",
                       occurred_at=when, received_at=received_at, sender=identity(customer), text=text,
                       content=text_items(text), target_message_id=mid,
                       recipient_id=(event.get("recipient") or {}).get("id"),
                       attributes={"num_edit": edit.get("num_edit")})

    def _postback(self, account, event, customer, when, received_at) -> dict:
        postback = event["postback"]
        mid = postback.get("mid") or f"postback:{customer}:{when}"
        return inbound(account, platform_message_id=mid, occurred_at=when, received_at=received_at,
                       sender=identity(customer), kind="postback", text=postback.get("title"),
                       content=[item("postback", text=postback.get("title"), payload=postback.get("payload"))],
                       recipient_id=(event.get("recipient") or {}).get("id"),
                       attributes=_referral(postback.get("referral")))   # Get Started from an m.me link

    def _referral(self, account, event, customer, when, received_at) -> dict:
        """A referral without a message (kind `referral`): it starts nothing; the thread's next
        conversation carries it (streams/conversations/threading.py)."""
        return inbound(account, platform_message_id=f"referral:{customer}:{when}", kind="referral",
                       occurred_at=when, received_at=received_at, sender=identity(customer),
                       recipient_id=(event.get("recipient") or {}).get("id"), attributes=_referral(event["referral"]))

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]:
        """One Send API call per part: text (with quick replies), image by URL, sticker by id."""
        check_capabilities(self.channel, outbound)
        url = f"{account.api_base_url}/me/messages"
        envelope = {"recipient": {"id": outbound["recipient_id"]}, **_messaging_type(outbound)}
        messages = []
        for part in parts(outbound["content"]):
            messages.append(_message(part))
            if part["type"] == "image" and part.get("text"):  # no captions on Messenger images
                messages.append({"text": part["text"]})
        return [PlatformRequest("POST", url, meta.bearer(account), {**envelope, "message": m}) for m in messages]

    # Agents' images go by URL: a long-lived signed URL of the media store (connectors/media/outbound.py).
    media_form = "url"

    def result_of(self, request: PlatformRequest, status_code: int, headers, body: bytes) -> SendResult:
        """`message_id` on success; Graph errors classified by code (meta.RETRIABLE_CODES)."""
        if 200 <= status_code < 300:
            return SendResult(ok=True, platform_message_ids=tuple(filter(None, [body_json(body).get("message_id")])))
        return meta.graph_error(status_code, headers, body)


def _page_webhook(body: bytes) -> dict:
    data = load_json(body)
    if not isinstance(data, dict) or data.get("object") != "page" or not isinstance(data.get("entry"), list):
        raise ParseError("not a Messenger page webhook (object 'page' with entry[])")
    return data


def _referral(referral: dict | None) -> dict:
    """referral {ref, source, type, ad_id?, ads_context_data?} (m.me links, ads; a shop's
    {product: {id}}) as attributes (meta.referral)."""
    if not referral:
        return {}
    source = referral.get("source")
    if source is None and referral.get("product"):
        return meta.referral(source="product", source_id=(referral["product"] or {}).get("id"))
    return meta.referral(ref=referral.get("ref"), source=SOURCES.get(source, (source or "").lower() or None),
                         source_id=referral.get("ad_id"), headline=(referral.get("ads_context_data") or {}).get("ad_title"))


def _messaging_type(outbound: dict) -> dict:
    # A tag (HUMAN_AGENT: a human may answer up to 7 days after the person's last message) goes
    # with messaging_type MESSAGE_TAG; otherwise a reply inside the 24 h window is RESPONSE.
    tag = outbound.get("messaging_tag")
    return {"messaging_type": "MESSAGE_TAG", "tag": tag} if tag else {"messaging_type": "RESPONSE"}


def _message(part: dict) -> dict:
    kind = part["type"]
    if kind == "text":
        message = {"text": part["text"]}
        if part["quick_replies"]:
            message["quick_replies"] = [{"content_type": "text", "title": q.get("text"), "payload": q.get("payload")}
                                        for q in part["quick_replies"]]
        return message
    if kind == "image":
        url = require_field(part, "url", rule="capability.image", reason="Messenger images are sent by URL")
        return {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": True}}}
    if kind == "sticker":
        sticker = require_field(part, "sticker_id", rule="capability.sticker",
                                reason="Messenger stickers are sent by sticker_id (Sticker API)")
        if not sticker.isdigit():
            raise Refused("capability.sticker", f"Messenger sticker ids are numeric, not {sticker!r}")
        return {"sticker_id": int(sticker)}
    raise Refused(f"capability.{kind}", f"messenger cannot carry {kind} content")
