"""Inbound media: fetched from each platform with its auth, only from allowlisted hosts, then stored.

`MediaFetcher.prefetch(records)` runs after the edge published a webhook's messages (background,
bounded concurrency; failures logged and counted, never failing the webhook); `media_for` answers
a page asking for an item that was not prefetched (or whose prefetch failed) by fetching it now.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter

from .safe_get import allowed_hosts, safe_get
from .store import MediaObject, MediaRefused

log = logging.getLogger("switchboard.media")
MEDIA_TYPES = ("image", "video", "audio", "file", "sticker")


def _bearer(account) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token.get_secret_value()}"}


async def _whatsapp(get, account, item: dict) -> tuple[bytes, str | None]:
    # Graph: GET /{media-id} → {url, mime_type, …}; the url (valid ~5 min) needs the same bearer
    # token (docs/channels/whatsapp.md; developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
    body, _ = await get(f"{account.api_base_url}/{item['media_id']}", _bearer(account))
    try:
        url, mime = json.loads(body)["url"], json.loads(body).get("mime_type")
    except (ValueError, KeyError, TypeError) as exc:
        raise MediaRefused("media.fetch", "WhatsApp media lookup without a url") from exc
    data, _ = await get(url, _bearer(account))
    return data, mime or item.get("mime_type")


def _line_data_base(account) -> str:
    # Content is served by api-data.line.me, not api.line.me (docs/channels/line.md); a simulator
    # or proxy serves both under the same base.
    return account.api_base_url.replace("://api.line.me", "://api-data.line.me")


async def _line(get, account, item: dict) -> tuple[bytes, str | None]:
    if item.get("url"):  # contentProvider "external": the sender's own https URL, no LINE token
        return await get(item["url"], {})
    return await get(f"{_line_data_base(account)}/v2/bot/message/{item['media_id']}/content", _bearer(account))


async def _messenger(get, account, item: dict) -> tuple[bytes, str | None]:
    # attachment payload.url: a signed CDN URL (scontent/cdn.fbsbx), fetched without the page token.
    return await get(item["url"], {})


async def _x(get, account, item: dict) -> tuple[bytes, str | None]:
    # ton.twitter.com DM media need the user's credentials (docs/channels/x.md): the account's
    # OAuth 2.0 user token. OAuth 1.0a signing would need the token secret the schema lacks.
    return await get(item["url"], _bearer(account))


# What each channel's item must carry to be fetched, and how.
FETCHERS = {"whatsapp": ("media_id", _whatsapp), "line": ("media_id", _line),
            "messenger": ("url", _messenger), "x": ("url", _x)}


def link_name(channel: str, account_id: str, item: dict) -> str:
    """The store name a platform media reference is linked under."""
    return f"inbound:{channel}:{account_id}:{item.get('media_id') or item.get('url')}"


def fetchable(channel: str, item: dict) -> bool:
    """Whether `item` is media this channel's fetcher can get."""
    entry = FETCHERS.get(channel)
    return entry is not None and item.get("type") in MEDIA_TYPES and not item.get("media_key") \
        and bool(item.get(entry[0]) or (channel == "line" and item.get("url")))


class MediaFetcher:
    """Fetches inbound media into the store; one per edge process (session and store injected)."""

    def __init__(self, store, session, accounts, max_bytes: int, *, concurrency: int = 4):
        self.store, self.session, self.accounts, self.max_bytes = store, session, accounts, max_bytes
        self.counters: Counter = Counter()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()

    async def media_for(self, channel: str, account_id: str, item: dict) -> MediaObject:
        """The stored object for an inbound item: linked by an earlier fetch, else fetched now."""
        name = link_name(channel, account_id, item)
        found = await asyncio.to_thread(self.store.resolve, name)
        if found is not None:
            return found
        account = self.accounts.get(channel, account_id)
        if account is None or not fetchable(channel, item):
            raise MediaRefused("media.unfetchable", f"no {channel} media to fetch for this item")
        hosts = allowed_hosts(account)
        get = lambda url, headers: safe_get(self.session, url, headers, hosts, self.max_bytes)  # noqa: E731
        async with self._slots:
            data, declared = await FETCHERS[channel][1](get, account, item)
        media = await asyncio.to_thread(self.store.put, data, declared)
        await asyncio.to_thread(self.store.link, name, media.key)
        self.counters["media_fetched"] += 1
        return media

    def prefetch(self, records: list[dict]) -> None:
        """Start fetching every media item of these inbound-message records in the background."""
        for record in records:
            for item in record.get("content") or []:
                if fetchable(record["channel"], item):
                    task = asyncio.ensure_future(self._quietly(record, item))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait for the prefetches under way (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    async def _quietly(self, record: dict, item: dict) -> None:
        try:
            await self.media_for(record["channel"], record["channel_account_id"], item)
        except MediaRefused as refused:
            self.counters[f"media_refused.{refused.rule}"] += 1
            log.warning("%s/%s %s: media not fetched: %s", record["channel"], record["channel_account_id"],
                        record.get("event_id"), refused.reason)
        except Exception:  # a bug must not kill the loop of later prefetches; logged with its trace
            self.counters["media_errors"] += 1
            log.exception("%s/%s: media prefetch failed", record["channel"], record["channel_account_id"])
