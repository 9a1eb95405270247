"""An edge serving Web Messaging on the session broker, with a deployment of the test's own."""
from __future__ import annotations

import base64
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connectors.edge import make_app
from connectors.media import DirectoryStore, EdgeMedia, Signer
from connectors.publisher import Publisher
from connectors.webmessaging import WebMessaging
from connectors.webmessaging.hub import GuestHub
from connectors.webmessaging.sessions import SessionView
from schemas import Codec
from switchboard.accounts import Accounts, WithDeployments
from switchboard.settings import load_settings
from tests.connectors.workspace.conftest import directory  # noqa: F401 (the session's directory fixture)
from tests.kafka_fixture import wait_until

CODEC = Codec()
SECRET = b"webmessaging-tests-secret-of-at-least-32-bytes"
ORIGIN = "https://www.acme.example"
JWT_SECRET = "acme-site-jwt-secret-0123456789abcdef"


@dataclass
class Clock:
    """The guest API's clock: real time plus what a test moved it on by."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Site:
    """One test's edge and deployment."""

    client: TestClient
    wm: WebMessaging
    tenant: str
    deployment: str
    clock: Clock
    sockets: list = field(default_factory=list)

    async def connect(self, origin: str = ORIGIN, deployment: str | None = None):
        socket = await self.client.ws_connect(f"/webmessaging/v1?deploymentId={deployment or self.deployment}",
                                              headers={"Origin": origin})
        self.sockets.append(socket)
        return socket


def token() -> str:
    """A widget's token: 32 random bytes as base64url."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


async def call(socket, action: str, tok: str | None = None, **fields) -> dict:
    """Send one frame and return the first answer or error to it (events before it are skipped)."""
    tracing = uuid.uuid4().hex[:8]
    await socket.send_json({"action": action, "token": tok, "tracingId": tracing, **fields})
    while True:
        frame = await socket.receive_json(timeout=10)
        if frame["type"] in ("response", "error") and frame.get("tracingId") == tracing:
            return frame


async def next_event(socket, name: str, timeout: float = 10) -> dict:
    """The next event frame called `name` (others are skipped)."""
    while True:
        frame = await socket.receive_json(timeout=timeout)
        if frame["type"] == "event" and frame["event"] == name:
            return frame


@pytest.fixture(scope="session")
def web_sessions(kafka_bootstrap):
    """The guest sessions of the session broker, followed whole."""
    view = SessionView({"bootstrap.servers": kafka_bootstrap}, CODEC).start()
    assert view.wait_ready(60)
    yield view
    view.close()


def deployment_body(**changes) -> dict:
    """A deployment as `switchboard admin deployment create` writes it."""
    return {"allowed_origins": [ORIGIN], "window_hours": 24, "file_types": ["image/png", "image/jpeg"],
            "max_file_bytes": 200_000, "look": {"name": "Acme"}, "prechat": ["name", "email"],
            "authenticated": {"enabled": True, "algorithm": "HS256", "secret": JWT_SECRET,
                              "issuer": ORIGIN, "audience": "acme-site"}} | changes


@contextlib.asynccontextmanager
async def site_of(kafka_bootstrap, directory, web_sessions, tmp_path, clickhouse=None, **deployment):
    view, writer = directory
    tenant, deployment_id = f"t-{uuid.uuid4().hex[:10]}", f"site-{uuid.uuid4().hex[:10]}"
    writer.put(tenant, "deployment", deployment_id, deployment_body(**deployment), "test")
    wait_until(lambda: view.deployment(deployment_id), what="the deployment in the directory")
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)
    publisher = Publisher(settings.kafka_client_config(), transactional_id=None)
    accounts = WithDeployments(Accounts([]), view)
    media = EdgeMedia(DirectoryStore(tmp_path / "media", 1_000_000), Signer(SECRET), accounts, 1_000_000, 300)
    clock = Clock()
    wm = WebMessaging(view, web_sessions, GuestHub(settings.kafka_client_config(), CODEC), publisher, CODEC, SECRET,
                      "http://edge.test", media=media, clickhouse=clickhouse, clock=clock, tick_seconds=0.05)
    # The session view is the session's: the app must not close it with the edge.
    wm.close = wm.hub.close
    client = TestClient(TestServer(make_app(settings, accounts, publisher, CODEC, media=media, webmessaging=wm),
                                   host="127.0.0.1"))
    await client.start_server()   # serves once the hub tails webmessaging-events
    site = Site(client, wm, tenant, deployment_id, clock)
    try:
        yield site
    finally:
        for socket in site.sockets:
            await socket.close()
        await client.close()
        publisher.close()


@pytest.fixture(scope="module")
async def site(kafka_bootstrap, directory, web_sessions, tmp_path_factory):
    """A deployment served by an edge of its own (no ClickHouse), shared by a module's tests: each
    test's visitors have tokens of their own; a clock moved on moves every later session too."""
    async with site_of(kafka_bootstrap, directory, web_sessions, tmp_path_factory.mktemp("site")) as found:
        yield found
