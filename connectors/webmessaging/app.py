"""Web Messaging in the edge: its dependencies in one object, and the routes it mounts.

`build(settings, publisher, codec, directory)` is what `switchboard edge` runs; tests construct
`WebMessaging` with their own pieces. `mount(app, wm)` adds the guest socket, history, uploads,
deliveries and the widget's files — all public paths (the auth middleware lets `/webmessaging/`
and `/demo/` through: the socket checks the Origin, history and uploads carry their own signed
tokens, deliveries their HMAC).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from channels.web import account_of
from connectors.web import WebConnector, delivery_key, purpose_key

from .hub import GuestHub
from .limits import GuestFloods
from .sessions import SessionView

log = logging.getLogger("switchboard.webmessaging")
WEBMESSAGING = web.AppKey("webmessaging", object)
STATIC = Path(__file__).resolve().parent / "static"
PUBLIC = ("/webmessaging/", "/demo/", "/demo")   # for the workspace's auth middleware
QUEUE_STATUS_SECONDS = 10.0
WIDGET_MEDIA_SECONDS = 3600   # a signed media URL in the widget (history re-signs)


@dataclass
class WebMessaging:
    """What the guest API reads and writes through."""

    directory: object            # switchboard.directory.DirectoryView: deployments
    sessions: SessionView
    hub: GuestHub
    publisher: object            # connectors.publisher.Publisher
    codec: object
    secret: bytes                # the auth secret; every key here is derived from it for one purpose
    public_url: str              # the edge as the widget reaches it (media and upload URLs)
    media: object = None         # connectors.media.EdgeMedia (None: no attachments)
    clickhouse: Callable[[], object] | None = None   # history and queue status (None: none)
    clock: Callable[[], float] = time.time
    sleep: Callable = asyncio.sleep
    tick_seconds: float = QUEUE_STATUS_SECONDS
    floods: GuestFloods | None = None   # budgets per source address (None: unlimited)
    connector: WebConnector = field(default_factory=WebConnector)

    def key(self, purpose: str) -> bytes:
        """A key for one purpose (history tokens, upload URLs), never the secret itself."""
        return purpose_key(self.secret, purpose)

    def delivery_key(self) -> bytes:
        """The key deliver signs deliveries with (connectors.web.delivery_key)."""
        return delivery_key(self.secret)

    def now(self) -> int:
        """Epoch millis."""
        return int(self.clock() * 1000)

    def deployment(self, deployment_id: str | None) -> tuple[str, dict] | None:
        """(tenant, body) of an enabled deployment, or None."""
        found = self.directory.deployment(deployment_id) if deployment_id else None
        return found if found is not None and found[1].get("enabled", True) else None

    def account(self, tenant: str, deployment: dict):
        """The deployment's channel account (what the connector and the records take)."""
        return account_of(tenant, deployment["id"], deployment)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tail the guest events into the hub."""
        self.hub.start(loop)

    def close(self) -> None:
        """Stop the tailer and the session view."""
        self.hub.close()
        self.sessions.close()


def build(settings, publisher, codec, directory, media=None, clickhouse=None,
          floods: GuestFloods | None = None) -> WebMessaging:
    """The Web Messaging `switchboard edge` serves: sessions read whole, guest events tailed."""
    from switchboard.auth import secret
    from switchboard.errors import UserError

    from .sessions import SESSIONS

    kafka = settings.kafka_client_config()
    sessions = SessionView(kafka, codec).start()
    if not sessions.wait_ready(60):
        raise UserError(f"the {SESSIONS.name} topic could not be read in 60 s: is Kafka running and the topic "
                        "created? (switchboard topics create)")
    return WebMessaging(directory, sessions, GuestHub(kafka, codec), publisher, codec, secret(settings),
                        settings.public_url(), media=media, clickhouse=clickhouse, floods=floods)


def mount(app: web.Application, wm: WebMessaging) -> None:
    """The guest API's routes and the widget's files on the edge's app."""
    from . import deliveries, history, socket, uploads

    app[WEBMESSAGING] = wm
    for module in (socket, history, uploads, deliveries):
        app.add_routes(module.ROUTES)
    app.add_routes([web.get("/webmessaging/widget.js", _widget), web.get("/demo/", _demo),
                    web.get("/demo", _to_demo)])
    if STATIC.is_dir():
        app.add_routes([web.static("/webmessaging/static/", STATIC)])
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


def webmessaging_of(request: web.Request) -> WebMessaging:
    """The Web Messaging of the request's app."""
    return request.app[WEBMESSAGING]


async def _widget(request: web.Request) -> web.StreamResponse:
    # Short cache: a new release reaches every site within minutes, without a versioned URL.
    return _file(STATIC / "widget.js", "application/javascript", "public, max-age=300")


async def _demo(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "demo.html", "text/html", "no-cache")


async def _to_demo(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo/")


def _file(path: Path, content_type: str, cache: str) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPNotFound(text=f"{path.name} is not installed")
    return web.Response(body=path.read_bytes(), content_type=content_type, charset="utf-8",
                        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})


async def _start(app: web.Application) -> None:
    """Serve once the tailer is at the end of webmessaging-events: every later push is live."""
    wm = app[WEBMESSAGING]
    wm.start(asyncio.get_running_loop())
    if not await asyncio.to_thread(wm.hub.wait_ready, 30):
        log.warning("webmessaging-events not reached in 30 s: pushes may wait for a reconnect's replay")


async def _stop(app: web.Application) -> None:
    await asyncio.to_thread(app[WEBMESSAGING].close)
