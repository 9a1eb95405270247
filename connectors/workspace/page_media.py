"""Media items as the agent page receives them: a short-lived signed URL of our store, never the platform's.

WhatsApp and LINE send media ids, Messenger and X CDN URLs that need the platform's auth or expire
(docs/workspace.md, "Media"); the page only ever loads `/media/{key}?exp=&sig=`. Each media item
of a pushed event, a replay or an API answer gets `url` from, in order: its `media_key` (an
upload, or the pipeline's fetch), the object a prefetch linked (`link_name` + `store.resolve`),
or a fetch now (`media_for`, bounded). The platform's URL stays as `source_url`; a failure leaves
`media_error` (the reason) and no `url`.
"""
from __future__ import annotations

import asyncio
import logging

from connectors.media.fetch import MEDIA_TYPES, link_name
from connectors.media.store import MediaRefused

log = logging.getLogger("switchboard.workspace")
FETCH_SECONDS = 8.0   # a page waits this long for an item nobody prefetched; then it shows the error


class PageMedia:
    """Signs the media items of what the page gets; `media` is the edge's EdgeMedia (None: no store)."""

    def __init__(self, media=None, fetch_seconds: float = FETCH_SECONDS):
        self.media, self.fetch_seconds = media, fetch_seconds
        self._fetching: dict[str, asyncio.Task] = {}   # link name -> the one fetch every socket awaits

    async def event(self, event: dict) -> dict:
        """A push event with its `content` signed (other events unchanged)."""
        if not event.get("content"):
            return event
        return {**event, "content": await self.content(event.get("channel"), event.get("channel_account_id"),
                                                         event["content"])}

    async def messages(self, messages: list[dict]) -> list[dict]:
        """Messages (API rows or events) with their content signed."""
        return [await self.event(m) for m in messages]

    async def content(self, channel: str | None, account_id: str | None, items: list[dict]) -> list[dict]:
        """Each item; media items with a page `url` (or `media_error`), the platform URL as `source_url`."""
        return [await self.item(channel, account_id, item) if _is_media(item) else item for item in items]

    async def item(self, channel: str | None, account_id: str | None, item: dict) -> dict:
        """One media item as the page may load it."""
        signed = {k: v for k, v in item.items() if k != "url"} | {"source_url": item.get("source_url") or item.get("url")}
        if self.media is None:
            return signed | {"media_error": "this edge has no media store"}
        try:
            key = item.get("media_key") or await self._stored_key(channel or "", account_id or "", item)
        except MediaRefused as refused:
            return signed | {"media_error": refused.reason}
        except asyncio.TimeoutError:
            return signed | {"media_error": f"the platform did not deliver the media within {self.fetch_seconds:g} s"}
        except Exception as exc:  # the page shows the error; the event itself must still be sent
            log.warning("media for %s/%s not available: %s", channel, account_id, exc)
            return signed | {"media_error": "the media could not be fetched"}
        return signed | {"media_key": key, "url": self.media.page_url(key)}

    async def _stored_key(self, channel: str, account_id: str, item: dict) -> str:
        name = link_name(channel, account_id, item)
        found = await asyncio.to_thread(self.media.store.resolve, name)
        if found is not None:
            return found.key
        if self.media.fetcher is None:
            raise MediaRefused("media.unfetchable", "the media fetcher is not running")
        task = self._fetching.get(name)
        if task is None:
            task = asyncio.ensure_future(self.media.fetcher.media_for(channel, account_id, item))
            self._fetching[name] = task
            task.add_done_callback(lambda t: self._fetching.pop(name, None) and not t.cancelled() and t.exception())
        media = await asyncio.wait_for(asyncio.shield(task), self.fetch_seconds)
        return media.key


def _is_media(item) -> bool:
    return isinstance(item, dict) and item.get("type") in MEDIA_TYPES
