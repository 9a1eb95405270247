"""Outbound media: an agent's stored image (`media_key`) in the form its channel takes — a public
signed URL (Messenger, LINE) or the platform's own media id after an upload (WhatsApp, X)."""
from __future__ import annotations

import asyncio
import io

from PIL import Image

from connectors.base import Refused, SendResult
from connectors.sending import RetryPolicy, send

from .signing import PLATFORM_URL_SECONDS, Signer
from .store import MediaObject, MediaRefused, MediaStore

PREVIEW_PX = 240   # LINE previewImageUrl: JPEG/PNG ≤ 1 MB; 240 px is its recommended size
LINE_TYPES = ("image/jpeg", "image/png")   # LINE originalContentUrl: JPEG or PNG only


class UploadFailed(Exception):
    """The platform refused (or never answered) a media upload: the message fails with its result."""

    def __init__(self, result: SendResult):
        super().__init__(result.reason)
        self.result = result


class _Uploads:
    """Lets `sending.send` (retries, Retry-After) classify an upload's answer."""

    def __init__(self, connector):
        self.result_of = connector.upload_result


def media_keys(outbound: dict) -> list[str]:
    """The store keys an outbound message refers to (read defensively: older records have none)."""
    return [e["media_key"] for e in outbound.get("content") or [] if e.get("media_key")]


class OutboundMedia:
    """Resolves `media_key` items before `requests_for`; built once in delivery's `main`."""

    def __init__(self, store: MediaStore, signer: Signer, public_url: str, session, policy: RetryPolicy,
                 *, url_seconds: float = PLATFORM_URL_SECONDS, sleep=asyncio.sleep, allow_outside: bool = False):
        self.store, self.signer, self.public_url = store, signer, public_url.rstrip("/")
        self.session, self.policy, self.url_seconds, self.sleep = session, policy, url_seconds, sleep
        self.allow_outside = allow_outside   # uploads go where messages go (connectors/sending.py guard)

    async def prepare(self, connector, account, outbound: dict) -> dict:
        """`outbound` with every media_key item given a `url` or `media_id` (Refused / UploadFailed)."""
        content = []
        for element in outbound.get("content") or []:
            if element.get("media_key"):
                media, data = await self._load(element["media_key"])
                form = getattr(connector, "media_form", None)
                if form == "upload":
                    element = {**element, "media_id": await self._upload(connector, account, media, data)}
                elif form == "url":
                    element = {**element, **await self._urls(connector.channel, media, data)}
                else:
                    raise Refused(f"capability.{element['type']}", f"{connector.channel} cannot send stored media")
                element["mime_type"] = media.mime_type
            content.append(element)
        return {**outbound, "content": content}

    async def _load(self, key: str) -> tuple[MediaObject, bytes]:
        found = await asyncio.to_thread(self.store.get, key)
        if found is None:
            raise Refused("media.missing", f"media {key} is not in the media store (SWITCHBOARD_MEDIA_DIR)")
        return found

    async def _upload(self, connector, account, media: MediaObject, data: bytes) -> str:
        request = connector.upload_request(account, media, data)
        result, _ = await send(self.session, _Uploads(connector), request, self.policy, sleep=self.sleep,
                               allow_outside=self.allow_outside)
        if not result.ok:
            raise UploadFailed(result)
        return result.platform_message_ids[0]

    async def _urls(self, channel: str, media: MediaObject, data: bytes) -> dict:
        urls = {"url": self.signer.url(self.public_url, media.key, self.url_seconds)}
        if channel == "line":
            if not self.public_url.startswith("https://"):
                raise Refused("capability.image_url", "LINE fetches images only over https: set "
                                                      "SWITCHBOARD_PUBLIC_BASE_URL to the edge's https URL")
            if media.mime_type not in LINE_TYPES:
                raise Refused("capability.image", f"LINE images must be JPEG or PNG, not {media.mime_type}")
            preview = await asyncio.to_thread(self._preview, media, data)
            urls["preview_url"] = self.signer.url(self.public_url, preview.key, self.url_seconds)
        return urls

    def _preview(self, media: MediaObject, data: bytes) -> MediaObject:
        """A ≤ 240 px copy in the same format, stored beside the original."""
        with Image.open(io.BytesIO(data)) as picture:
            picture.thumbnail((PREVIEW_PX, PREVIEW_PX))
            out = io.BytesIO()
            picture.save(out, format="PNG" if media.mime_type == "image/png" else "JPEG")
        try:
            return self.store.put(out.getvalue(), media.mime_type)
        except MediaRefused as refused:
            raise Refused("media.preview", refused.reason) from refused
