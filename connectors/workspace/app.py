"""The agent workspace inside the edge: its dependencies in one object, and how it is mounted.

`build(settings, publisher, codec)` is what `switchboard edge` runs; tests construct `Workspace`
with their own pieces. `mount(app, workspace)` installs the one auth middleware
(switchboard.auth, default deny) and every `/api/v1` route of docs/workspace.md.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from connectors.publisher import PublishError, Publisher, Record
from connectors.webmessaging.app import PUBLIC as GUEST_PUBLIC
from switchboard.auth import PRINCIPAL, Principal, Tokens, auth_middleware

from .book import Book
from .hub import Hub
from .notifications import Tailer, replay
from .page_media import PageMedia
from .policy import PolicyViews

WORKSPACE = web.AppKey("workspace", object)
STATIC = Path(__file__).resolve().parent / "static"
# Public paths (docs/workspace.md "the one auth middleware"): webhooks carry their own signatures,
# media URLs are signed, the page's files and the OpenAPI document hold no data; Web Messaging's
# guest API checks its own (the socket's Origin, signed history tokens, upload URLs and deliveries).
PUBLIC = ("/", "/ops", "/app/", "/webhooks/", "/media/", "/edge/stats", "/api/v1/auth/login",
          "/api/v1/openapi.json") + GUEST_PUBLIC


@dataclass
class Workspace:
    """What the agent API reads and writes through."""

    tokens: Tokens
    directory: object            # switchboard.directory.DirectoryView
    writer: object               # switchboard.directory.DirectoryWriter (admin API, sign-out)
    clickhouse: Callable[[], object]   # a clickhouse-connect client, connected on first use
    publisher: Publisher
    codec: object
    client_config: dict
    clock: Callable[[], float] = time.time
    book: Book = field(default_factory=Book)
    hub: Hub | None = None
    tailer: Tailer | None = None
    page_media: PageMedia = field(default_factory=PageMedia)   # signs media items for the page
    policies: PolicyViews = field(default_factory=PolicyViews)  # policy-views, read whole (policy API)
    accounts: object | None = None   # switchboard.accounts.Accounts: notification targets (None: not checked)

    def __post_init__(self):
        self.hub = Hub(self.book, lambda *a: replay(self.client_config, self.codec, *a))

    def now(self) -> int:
        """Epoch millis."""
        return int(self.clock() * 1000)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start tailing agent-notifications into the book and the sockets, and policy-views into memory."""
        self.tailer = Tailer(self.client_config, self.codec,
                             lambda items: loop.call_soon_threadsafe(self.hub.deliver, items))
        self.tailer.start()
        self.policies.start(self.client_config, self.codec)

    def close(self) -> None:
        """Stop the tailers."""
        if self.tailer:
            self.tailer.close()
        self.policies.close()


def build(settings, publisher: Publisher, codec) -> Workspace:
    """The workspace `switchboard edge` serves: directory view, tokens, ClickHouse, the edge's publisher."""
    from sink.client import connect
    from switchboard.accounts import load_accounts
    from switchboard.auth import secret
    from switchboard.directory import DirectoryView, DirectoryWriter

    kafka = settings.kafka_client_config()
    view = DirectoryView(kafka, codec).start()
    view.wait_ready(60)
    return Workspace(Tokens(secret(settings), settings.session_hours * 3600), view, DirectoryWriter(kafka, codec),
                     _lazy(lambda: connect(settings)), publisher, codec, kafka,
                     accounts=load_accounts(settings.accounts_file))


def _lazy(make: Callable[[], object]) -> Callable[[], object]:
    """`make()` once, on first use (the sink that answers ClickHouse may start after the edge)."""
    made: list = []
    return lambda: made[0] if made else (made.append(make()) or made[0])


def mount(app: web.Application, workspace: Workspace, media=None) -> None:
    """The auth middleware and the workspace's routes on the edge's app (uploads when `media` is given)."""
    from . import admin_routes, agent_routes, auth_routes, openapi, policy_routes, socket, supervisor_routes

    app[WORKSPACE] = workspace
    app.middlewares.append(auth_middleware(workspace.tokens, workspace.directory.revoked, PUBLIC))
    for module in (auth_routes, policy_routes, agent_routes, supervisor_routes, admin_routes, socket, openapi):
        app.add_routes(module.ROUTES)
    if media is not None:
        workspace.page_media = PageMedia(media)
        app.add_routes([agent_routes.media_upload(media)])
    _reports(app, workspace)
    if STATIC.is_dir():
        app.add_routes([web.get("/", _to_page), web.get("/ops", _to_ops), web.static("/app/", STATIC)])
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


def _reports(app: web.Application, workspace: Workspace) -> None:
    """The report API the ops page reads (sink/report_routes.py, supervisor and above) on the
    workspace's ClickHouse; timeline reads audited through the edge's publisher, origin edge."""
    from sink.audit import NotRecorded
    from sink.client import NoClickHouse
    from sink.report_routes import add_report_routes

    from .audit import audit_record

    def client_of(request: web.Request):
        try:
            return workspace.clickhouse()
        except NoClickHouse as exc:
            raise fail(503, str(exc)) from None

    async def audit(fact: dict) -> None:
        try:
            await workspace.publisher.publish([audit_record(workspace.codec, fact)])
        except PublishError as exc:
            raise NotRecorded(str(exc)) from None

    add_report_routes(app, client_of, audit=audit, origin="edge")


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/app/index.html")


async def _to_ops(request: web.Request) -> web.Response:
    raise web.HTTPFound("/app/ops.html")


async def _start(app: web.Application) -> None:
    app[WORKSPACE].start(asyncio.get_running_loop())


async def _stop(app: web.Application) -> None:
    await asyncio.to_thread(app[WORKSPACE].close)


# Helpers every route module shares.

def workspace_of(request: web.Request) -> Workspace:
    """The workspace of the request's app."""
    return request.app[WORKSPACE]


def principal_of(request: web.Request) -> Principal:
    """The signed-in principal (the middleware put it there)."""
    return request[PRINCIPAL]


def fail(status: int, message: str):
    """An HTTP error with the contract's JSON body `{"error": …}`."""
    kinds = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
             409: web.HTTPConflict, 503: web.HTTPServiceUnavailable}
    return kinds[status](text=json.dumps({"error": message}), content_type="application/json")


async def body_of(request: web.Request) -> dict:
    """The JSON object a request carries (400 otherwise)."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise fail(400, "send a JSON object body (Content-Type: application/json)") from None
    if not isinstance(data, dict):
        raise fail(400, "send a JSON object body")
    return data


async def publish(request: web.Request, records: list[Record]) -> None:
    """Produce and wait for the broker's acknowledgement (503 if it does not come)."""
    try:
        await workspace_of(request).publisher.publish(records)
    except PublishError:
        raise fail(503, "the broker did not acknowledge: try again") from None


async def query(request: web.Request, fn, *args):
    """A ClickHouse read on a thread (503 when ClickHouse does not answer)."""
    from sink.client import NoClickHouse

    try:
        return await asyncio.to_thread(lambda: fn(workspace_of(request).clickhouse(), *args))
    except NoClickHouse as exc:
        raise fail(503, str(exc)) from None
