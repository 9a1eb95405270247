"""Platform → edge: posting signed webhooks, retrying like the platforms do, and their URL checks."""
from __future__ import annotations

import asyncio
import logging

import aiohttp

from .base import Platform, Webhook
from .state import Stats

log = logging.getLogger(__name__)

# Platforms retry a webhook that got no 2xx, with growing pauses (Meta until it succeeds, LINE with
# redelivery on, X's enterprise tier 3 times in 5 minutes); the simulators stop after these.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)


class WebhookClient:
    """Posts webhooks to `{edge_url}/webhooks/{channel}/{account_id}` and counts the answers."""

    def __init__(self, edge_url: str, stats: Stats, retry_delays=RETRY_DELAYS, concurrency: int = 64):
        self.edge_url = edge_url.rstrip("/")
        self.stats = stats
        self.retry_delays = tuple(retry_delays)
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(concurrency)

    def url(self, channel: str, account_id: str) -> str:
        """The edge's webhook URL for one account."""
        return f"{self.edge_url}/webhooks/{channel}/{account_id}"

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, platform: Platform, hook: Webhook) -> int | None:
        """Deliver `hook`, redelivering on a non-2xx or no answer; the final status (None: no answer)."""
        counts = self.stats.webhooks[hook.channel]
        counts["batches"] += _is_batch(hook)
        for attempt, delay in enumerate((0.0, *self.retry_delays)):
            if attempt:
                await asyncio.sleep(delay)
                hook = platform.redelivered(hook)
                counts["retries"] += 1
            status = await self._attempt(platform, hook)
            if status is not None and 200 <= status < 300:
                return status
        counts["gave_up"] += 1
        log.warning("%s webhook for %s not accepted after %d attempts (last: %s)", hook.channel,
                    hook.account_id, len(self.retry_delays) + 1, status)
        return status

    async def _attempt(self, platform: Platform, hook: Webhook) -> int | None:
        counts = self.stats.webhooks[hook.channel]
        counts["sent"] += 1
        counts["redeliveries"] += hook.redelivery
        try:
            async with self._slots, self.session.post(
                    self.url(hook.channel, hook.account_id), data=hook.body, headers=hook.headers,
                    timeout=aiohttp.ClientTimeout(total=platform.timeout)) as response:
                await response.read()
                counts[str(response.status)] += 1
                return response.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            counts["no_answer"] += 1
            log.debug("%s webhook: %s", hook.channel, exc)
            return None

    async def get(self, channel: str, account_id: str, params: dict[str, str]) -> tuple[int | None, str]:
        """A verification GET (Meta's hub.* subscribe check, X's CRC): (status, body text)."""
        try:
            async with self.session.get(self.url(channel, account_id), params=params,
                                        timeout=aiohttp.ClientTimeout(total=3)) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return None, ""


def _is_batch(hook: Webhook) -> bool:
    """Several customer events in one request (counted once, on first delivery)."""
    p = hook.payload
    if hook.redelivery or hook.kind != "message":
        return False
    if isinstance(p, list):
        return len(p) > 1
    events = p.get("entry") or p.get("events") or p.get("direct_message_events") or []
    if p.get("object") == "whatsapp_business_account":
        events = [m for e in events for c in e["changes"] for m in c["value"].get("messages", [])]
    return len(events) > 1
