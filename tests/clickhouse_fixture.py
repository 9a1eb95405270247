"""Pytest plugin: the embedded ClickHouse (chdb) for the session, and its HTTP interface.

chdb allows one engine per process, so the whole test process shares one, in a temporary data
directory with every migration applied; tests isolate themselves with their own tenant ids.
Tests that start a `switchboard sink` subprocess give it its own data directory.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import pytest
from aiohttp import web

from sink.embedded import EmbeddedClickHouse
from sink.main import build_app
from sink.migrations import migrate
from sink.store import EmbeddedStore
from switchboard.auth import Principal, Tokens
from tests.kafka_fixture import free_port


@pytest.fixture(scope="session")
def clickhouse_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """The session's embedded engine as a store, migrated."""
    engine = EmbeddedClickHouse(tmp_path_factory.mktemp("clickhouse"))
    store = EmbeddedStore(engine)
    migrate(store)
    yield store
    engine.close()


REPORT_TOKENS = Tokens(b"report-api-tests-secret-at-least-32-bytes", 3600)
# The users the fixture's ClickHouse interface accepts (sink/http.py): the roles' and a readonly one.
WRITER, READER = ("default", "writer-password-of-the-tests"), ("readonly", "reader-password-of-the-tests")
USERS = {WRITER[0]: (WRITER[1], False), READER[0]: (READER[1], True)}


def report_token(tenant: str, role: str = "supervisor") -> dict[str, str]:
    """Authorization headers of a session of `tenant` for the report API the fixture serves."""
    token, _ = REPORT_TOKENS.issue(Principal("sup", tenant, role, f"s-{uuid.uuid4().hex}", "Sup"))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def clickhouse_url(clickhouse_store: EmbeddedStore) -> Iterator[str]:
    """http://127.0.0.1:<port> of the sink's HTTP app (ClickHouse interface + report API)."""
    loop, port = asyncio.new_event_loop(), free_port()
    runner = web.AppRunner(build_app(clickhouse_store, clickhouse_store.engine, REPORT_TOKENS, lambda _sid: False,
                                     USERS))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def clickhouse_client(clickhouse_url: str):
    """A clickhouse-connect client of the session's embedded engine, over HTTP."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=clickhouse_url, username=WRITER[0], password=WRITER[1],
                                           autogenerate_session_id=False)
    yield client
    client.close()


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test uses (catalogue topics and fact tables are shared)."""
    return f"t-{uuid.uuid4().hex[:12]}"
