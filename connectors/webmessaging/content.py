"""Messages as the widget shows them: text apart, content items with URLs it may load.

Stored media (an agent's upload, a visitor's attachment) carry a `media_key`; the widget gets a
signed URL of the edge's media store for it (absolute: the widget lives on another origin), the
way the agent page gets one (`connectors/workspace/page_media.py`). Stickers are from our own set,
served with the widget (`/webmessaging/static/stickers/<id>.svg`).
"""
from __future__ import annotations

SHOWN = ("image", "video", "audio", "file", "url", "sticker")
STICKERS = "/webmessaging/static/stickers/"


class WidgetContent:
    """Signs media for the widget; `media` is the edge's EdgeMedia (None: no media store)."""

    def __init__(self, media, public_url: str, seconds: float):
        self.media, self.public_url, self.seconds = media, public_url.rstrip("/"), seconds

    def message(self, *, message_id: str, direction: str, items: list[dict], text: str | None, sent_at: int,
                sender_name: str | None, conversation_id: str | None) -> dict:
        """The body of a `message` event, or a history row."""
        texts = [i["text"] for i in items if i.get("type") == "text" and i.get("text")]
        return {"messageId": message_id, "direction": direction, "senderName": sender_name,
                "text": text if text is not None else ("\n".join(texts) or None),
                "content": [shown for i in items if (shown := self.item(i))], "sentAt": sent_at,
                "conversationId": conversation_id}

    def item(self, item: dict) -> dict | None:
        """One content item as `{type, url, caption?, title?, mimeType?}`; None for what the widget skips."""
        kind = item.get("type")
        if kind not in SHOWN:
            return None
        url = item.get("url")
        if item.get("media_key"):
            url = self._signed(item["media_key"])
        elif kind == "sticker":
            url = f"{self.public_url}{STICKERS}{item.get('sticker_id')}.svg"
        shown = {"type": kind, "url": url, "caption": item.get("text") if kind != "url" else None,
                 "title": item.get("title"), "mimeType": item.get("mime_type")}
        return {k: v for k, v in shown.items() if v is not None} | {"url": url}

    def _signed(self, key: str) -> str | None:
        if self.media is None:
            return None
        return self.media.signer.url(self.public_url, key, self.seconds)
