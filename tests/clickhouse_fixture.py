"""Pytest plugin: the session's ClickHouse (the embedded chdb, or a server) and the sink's HTTP app.

chdb allows one engine per process, so the whole test process shares one, in a temporary data
directory with every migration applied; tests isolate themselves with their own tenant ids.
Tests that start a `switchboard sink` subprocess give it its own data directory.

Set SWITCHBOARD_TEST_CLICKHOUSE_URL=<http(s)://user:password@host:port[/database]> to run the
ClickHouse tier against a server instead (the other SWITCHBOARD_CLICKHOUSE_* settings apply: CA file,
cluster…): the store and client are the server's, migrated under the lock; the sink's app then
serves only the report API, so the tests of the embedded engine's own interface (tests/sink/test_http.py)
need the embedded engine.
"""
from __future__ import annotations

import asyncio
import json
import os
import ssl
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web

from sink.client import connect
from sink.embedded import EmbeddedClickHouse
from sink.main import build_app
from sink.migrations import Target, migrate
from sink.store import EmbeddedStore, ServerStore
from switchboard.auth import Principal, Tokens
from switchboard.settings import Settings, load_settings
from tests.kafka_fixture import free_port

ENV = "SWITCHBOARD_TEST_CLICKHOUSE_URL"


def server_settings(environ: Mapping[str, str]) -> Settings | None:
    """The settings of the server SWITCHBOARD_TEST_CLICKHOUSE_URL names, else None (the embedded engine)."""
    url = environ.get(ENV)
    return load_settings(clickhouse_url=url) if url else None


def open_store(environ: Mapping[str, str], path: Path) -> tuple[EmbeddedStore | ServerStore, Callable[[], None]]:
    """(the session's store, migrated; its close): the server's, else an embedded engine in `path`."""
    settings = server_settings(environ)
    if settings:
        store = ServerStore(connect(settings))
        migrate(store, target=Target.from_settings(settings))
        return store, store.client.close
    engine = EmbeddedClickHouse(path)
    store = EmbeddedStore(engine)
    migrate(store)
    return store, engine.close


@pytest.fixture(scope="session")
def clickhouse_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore | ServerStore]:
    """The session's ClickHouse as a store, migrated: the embedded engine, or the server of ENV."""
    store, close = open_store(os.environ, tmp_path_factory.mktemp("clickhouse"))
    yield store
    close()


REPORT_TOKENS = Tokens(b"report-api-tests-secret-at-least-32-bytes", 3600)
# The users the fixture's ClickHouse interface accepts (sink/http.py): the roles' and a readonly one.
WRITER, READER = ("default", "writer-password-of-the-tests"), ("readonly", "reader-password-of-the-tests")
USERS = {WRITER[0]: (WRITER[1], False), READER[0]: (READER[1], True)}


def report_token(tenant: str, role: str = "supervisor") -> dict[str, str]:
    """Authorization headers of a session of `tenant` for the report API the fixture serves."""
    token, _ = REPORT_TOKENS.issue(Principal("sup", tenant, role, f"s-{uuid.uuid4().hex}", "Sup"))
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """`app` served on a loopback port from a thread: its http(s)://127.0.0.1:<port>."""
    loop, port = asyncio.new_event_loop(), free_port()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def get_json(url: str, headers: dict, timeout: float = 10) -> tuple[int, dict]:
    """GET `url` with `headers`: (status, JSON body), refusals included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.fixture(scope="session")
def clickhouse_url(clickhouse_store: EmbeddedStore | ServerStore) -> Iterator[str]:
    """http://127.0.0.1:<port> of the sink's HTTP app (ClickHouse interface of the embedded engine + report API)."""
    engine = getattr(clickhouse_store, "engine", None)   # a server answers ClickHouse itself
    app = build_app(clickhouse_store, engine, REPORT_TOKENS, lambda _sid: False, USERS if engine else None)
    with serving(app) as url:
        yield url


@pytest.fixture
def clickhouse_client(clickhouse_url: str):
    """A clickhouse-connect client of the session's ClickHouse (the embedded engine over HTTP, or the server)."""
    import clickhouse_connect

    settings = server_settings(os.environ)
    client = connect(settings) if settings else clickhouse_connect.get_client(
        dsn=clickhouse_url, username=WRITER[0], password=WRITER[1], autogenerate_session_id=False)
    yield client
    client.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses (catalogue topics and fact tables are shared)."""
    return f"t-{uuid.uuid4().hex[:12]}"
