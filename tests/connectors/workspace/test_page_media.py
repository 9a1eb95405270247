"""What the page gets for media items: our signed /media/ URL from the item's key, a prefetch's link or
a bounded fetch now; the platform's URL only as `source_url`; a reason instead when there is none."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.media.edge import EdgeMedia
from connectors.media.fetch import link_name
from connectors.media.signing import Signer
from connectors.media.store import DirectoryStore, MediaRefused
from connectors.workspace.page_media import PageMedia

MEDIA = Path(__file__).resolve().parents[2] / "fixtures" / "media"
ACCOUNT = "109876543210987"   # deploy/accounts.yaml, WhatsApp
IMAGE = {"type": "image", "media_id": "1479537139650973", "mime_type": "image/jpeg", "text": "Foto del paquete"}
CDN = {"type": "image", "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?oh=00_AfB&oe=6750A1B2"}


class Fetcher:
    """MediaFetcher's `media_for`, answering from the store after `delay` (or refusing)."""

    def __init__(self, store, data: bytes | None, delay: float = 0.0):
        self.store, self.data, self.delay, self.calls = store, data, delay, 0

    async def media_for(self, channel, account_id, item):
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.data is None:
            raise MediaRefused("media.fetch", "the platform answered 404 for the media id")
        return self.store.put(self.data, "image/jpeg")


def edge(tmp_path, data: bytes | None = None, delay: float = 0.0) -> EdgeMedia:
    media = EdgeMedia(DirectoryStore(tmp_path, 5_000_000), Signer(b"s" * 32), None, 5_000_000, 300)
    media.fetcher = Fetcher(media.store, data, delay)
    return media


def signed_by(media: EdgeMedia, url: str, key: str) -> bool:
    path, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    return path == f"/media/{key}" and media.signer.valid(key, params["exp"], params["sig"])


async def test_an_item_with_a_media_key_gets_our_url_and_keeps_the_platforms_as_source():
    media = edge(Path("/nonexistent"))
    key = "a" * 64
    [item] = await PageMedia(media).content("messenger", "p1", [CDN | {"media_key": key}])
    assert signed_by(media, item["url"], key) and item["source_url"] == CDN["url"] and media.fetcher.calls == 0


async def test_a_prefetched_item_is_found_by_its_link_without_fetching(tmp_path):
    media = edge(tmp_path)
    stored = media.store.put((MEDIA / "receipt.jpg").read_bytes(), "image/jpeg")
    media.store.link(link_name("whatsapp", ACCOUNT, IMAGE), stored.key)
    event = {"type": "message", "channel": "whatsapp", "channel_account_id": ACCOUNT, "content": [IMAGE]}
    [item] = (await PageMedia(media).event(event))["content"]
    assert signed_by(media, item["url"], stored.key) and item["media_key"] == stored.key
    assert item["text"] == "Foto del paquete" and media.fetcher.calls == 0


async def test_an_item_nobody_prefetched_is_fetched_once_for_every_socket_asking(tmp_path):
    media = edge(tmp_path, (MEDIA / "storefront.jpg").read_bytes(), delay=0.05)
    pages = PageMedia(media)
    event = {"type": "message", "channel": "whatsapp", "channel_account_id": ACCOUNT, "content": [IMAGE]}
    first, second = await asyncio.gather(pages.event(event), pages.event(event))
    assert first == second and first["content"][0]["url"].startswith("/media/") and media.fetcher.calls == 1


@pytest.mark.parametrize("data,delay,reason", [
    (None, 0.0, "the platform answered 404 for the media id"),
    (b"late", 1.0, "the platform did not deliver the media within 0.1 s")])
async def test_a_failed_or_slow_fetch_leaves_a_reason_and_no_url(tmp_path, data, delay, reason):
    pages = PageMedia(edge(tmp_path, data, delay), fetch_seconds=0.1)
    [item] = await pages.content("messenger", "p1", [CDN])
    assert "url" not in item and item["media_error"] == reason and item["source_url"] == CDN["url"]


async def test_other_items_and_events_pass_unchanged_and_no_store_means_no_url():
    text, location = {"type": "text", "text": "hola"}, {"type": "location", "url": "https://www.openstreetmap.org/?mlat=1"}
    pages = PageMedia(None)
    assert await pages.content("whatsapp", ACCOUNT, [text, location]) == [text, location]
    assert await pages.event({"type": "offered", "history": []}) == {"type": "offered", "history": []}
    [item] = await pages.content("messenger", "p1", [CDN])
    assert item == {"type": "image", "source_url": CDN["url"], "media_error": "this edge has no media store"}
