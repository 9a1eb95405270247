"""What the edge role holds for media: the store, the URL signer and the inbound fetcher."""
from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from ..sending import guard
from .fetch import MediaFetcher
from .routes import media_routes
from .signing import Signer
from .store import DirectoryStore, MediaStore


@dataclass
class EdgeMedia:
    """Media in one edge process; `mount` adds `GET /media/{key}` and the fetcher's HTTP session."""

    store: MediaStore
    signer: Signer
    accounts: object
    max_bytes: int
    url_seconds: float               # signed URLs given to pages
    allow_outside: bool = False      # SWITCHBOARD_ALLOW_OUTSIDE_TARGETS: fetch from beyond loopback
    fetcher: MediaFetcher | None = field(default=None, init=False)

    def mount(self, app: web.Application) -> None:
        """Serve signed media URLs; open the fetcher's session with the app, close it on cleanup."""
        media_routes(app, self.store, self.signer)
        app.cleanup_ctx.append(self._session)

    def prefetch(self, messages: list[dict]) -> None:
        """After a webhook's messages were published: fetch their media in the background."""
        if self.fetcher is not None:
            self.fetcher.prefetch(messages)

    def page_url(self, key: str) -> str:
        """A short-lived signed path for the agent page."""
        return self.signer.path(key, self.url_seconds)

    async def _session(self, app: web.Application):
        # The outside-target guard on every fetch, redirects included (connectors/sending.py).
        async with aiohttp.ClientSession(middlewares=(guard(self.allow_outside),)) as session:
            self.fetcher = MediaFetcher(self.store, session, self.accounts, self.max_bytes)
            yield
            await self.fetcher.idle()


def edge_media(settings, accounts) -> EdgeMedia:
    """The edge's media from settings: SWITCHBOARD_MEDIA_DIR, the size limit, the auth secret, outside targets."""
    from switchboard.auth import secret

    return EdgeMedia(DirectoryStore(settings.media_path(), settings.media_max_bytes), Signer(secret(settings)),
                     accounts, settings.media_max_bytes, settings.media_url_seconds, settings.allow_outside_targets)
