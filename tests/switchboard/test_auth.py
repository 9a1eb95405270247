"""Sign-in pieces: password hashes, expiring signed tokens, the one middleware and role checks."""
from __future__ import annotations

import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from switchboard.auth import (COOKIE, AuthError, Principal, Tokens, auth_middleware, hash_password, require,
                              secret, verify_password)
from switchboard.settings import load_settings

ASYNC = pytest.mark.asyncio(loop_scope="session")
KEY = b"k" * 40
ANN = Principal("ann", "acme", "agent", "sid-1", "Ann")


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_password_hash_verifies_only_its_password():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password("not-a-hash", "anything")


def test_a_token_names_its_principal_until_it_expires():
    clock = Clock(1_800_000_000)
    tokens = Tokens(KEY, 3600, clock)
    token, expires_at = tokens.issue(ANN)
    assert tokens.verify(token) == ANN and expires_at == (1_800_000_000 + 3600) * 1000
    clock.now += 3601
    with pytest.raises(AuthError, match="expired"):
        tokens.verify(token)


def test_a_token_signed_otherwise_or_with_another_algorithm_is_refused():
    token, _ = Tokens(b"x" * 40, 3600).issue(ANN)
    with pytest.raises(AuthError, match="not a valid session token"):
        Tokens(KEY, 3600).verify(token)
    unsigned = jwt.encode({"sub": "ann", "ten": "acme", "rol": "admin", "sid": "s", "exp": 4_000_000_000},
                          None, algorithm="none")
    with pytest.raises(AuthError):
        Tokens(KEY, 3600).verify(unsigned)


def test_a_short_secret_is_refused_and_the_local_secret_is_shared_per_data_dir(tmp_path):
    with pytest.raises(ValueError, match="SWITCHBOARD_AUTH_SECRET"):
        Tokens(b"short", 60)
    settings = load_settings(data_dir=tmp_path)
    assert secret(settings) == secret(load_settings(data_dir=tmp_path)) and len(secret(settings)) >= 32
    assert (tmp_path / "auth-secret").stat().st_mode & 0o077 == 0
    assert secret(load_settings(data_dir=tmp_path, auth_secret="s" * 40)) == b"s" * 40


@pytest_asyncio.fixture(loop_scope="session")
async def client():
    tokens = Tokens(KEY, 3600)

    async def me(request):
        return web.json_response({"person": require(request).person_id})

    async def admin_only(request):
        require(request, "admin")
        return web.json_response({})

    async def hello(request):
        return web.Response(text="public")

    app = web.Application(middlewares=[auth_middleware(tokens, lambda sid: sid == "revoked",
                                                       public=("/", "/hello", "/static/"))])
    app.add_routes([web.get("/", hello), web.get("/me", me), web.get("/admin", admin_only), web.get("/hello", hello),
                    web.get("/static/app.js", hello)])
    async with TestClient(TestServer(app)) as c:
        c.tokens = tokens
        yield c


@ASYNC
async def test_every_path_needs_a_token_except_the_public_ones(client):
    for path in ("/me", "/admin", "/unknown"):
        response = await client.get(path)
        assert response.status == 401 and "sign in" in (await response.json())["error"]
    assert (await client.get("/hello")).status == 200
    assert (await client.get("/")).status == 200      # "/" is public itself, not a prefix of everything
    assert (await client.get("/static/app.js")).status == 200


@ASYNC
async def test_bearer_or_cookie_roles_and_revoked_sessions(client):
    token, _ = client.tokens.issue(ANN)
    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200 and (await response.json()) == {"person": "ann"}
    assert (await client.get("/me", cookies={COOKIE: token})).status == 200
    assert (await client.get("/admin", headers={"Authorization": f"Bearer {token}"})).status == 403
    boss, _ = client.tokens.issue(Principal("zoe", "acme", "admin", "sid-2"))
    assert (await client.get("/admin", headers={"Authorization": f"Bearer {boss}"})).status == 200
    gone, _ = client.tokens.issue(Principal("ann", "acme", "agent", "revoked"))
    response = await client.get("/me", headers={"Authorization": f"Bearer {gone}"})
    assert response.status == 401 and "signed out" in (await response.json())["error"]
    response = await client.get("/me", headers={"Authorization": "Bearer garbage"})
    assert response.status == 401
