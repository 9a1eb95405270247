"""`GET /edge/stats` counts every tenant's traffic: loopback callers or an admin's token only (issue 15)."""
from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connectors.edge import make_app
from schemas import Codec
from switchboard.auth import PRINCIPAL, Principal
from switchboard.settings import load_settings
from tests.connectors.helpers import load_test_accounts, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="session")


def as_if(remote: str, role: str | None = None):
    """A middleware that makes each request come from `remote`, signed in as `role` (what the
    workspace's auth middleware sets) when given."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        request = request.clone(remote=remote)
        request[PRINCIPAL] = Principal("p-1", "acme", role, "s-1") if role else None
        return await handler(request)
    return middleware


async def stats_status(tmp_path, remote: str, role: str | None = None) -> tuple[int, dict]:
    app = make_app(load_settings(), load_test_accounts(tmp_path, new_tenant()), publisher=None, codec=Codec())
    app.middlewares.append(as_if(remote, role))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        answer = await client.get("/edge/stats")
        return answer.status, await answer.json()


@pytest.mark.parametrize("remote,role,status", [
    ("127.0.0.1", None, 200), ("::1", None, 200),
    ("203.0.113.7", None, 403), ("10.0.0.12", "supervisor", 403), ("203.0.113.7", "admin", 200),
])
async def test_stats_answer_loopback_callers_and_admins_only(tmp_path, remote, role, status):
    answered, body = await stats_status(tmp_path, remote, role)
    assert answered == status
    assert ("error" in body) == (status == 403)
