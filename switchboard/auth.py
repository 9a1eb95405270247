"""Who is asking: password hashes, signed expiring session tokens, and the one auth middleware.

Every HTTP API of the project installs `auth_middleware` (docs/workspace.md): default deny, only
the paths named public pass without a token. A token is a JWT (HS256, PyJWT) carrying the person,
tenant, role and session id; it comes as `Authorization: Bearer …` or the `sb_token` cookie the
sign-in route sets. A signed-out session is refused until it would have expired anyway (the
directory's `session_revoked` entries, read by every process). Handlers call `require(request,
role)` and scope everything to `principal.tenant_id`.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import jwt
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from switchboard.localfiles import local_secret

ROLES = ("agent", "supervisor", "admin")  # each may do what the ones before it may
COOKIE = "sb_token"
PRINCIPAL = web.RequestKey("principal", object)
_ALGORITHM = "HS256"   # fixed here, never taken from the token's header
_HASHER = PasswordHasher()


class AuthError(Exception):
    """A token that cannot be used; the message says why (expired, bad signature, revoked)."""


@dataclass(frozen=True)
class Principal:
    """The signed-in person a request acts for."""

    person_id: str
    tenant_id: str
    role: str
    session_id: str
    name: str = ""

    def may(self, role: str) -> bool:
        """Whether this person's role ranks at least `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted; what the directory keeps)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash (constant-time inside argon2)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def secret(settings) -> bytes:
    """The signing secret: SWITCHBOARD_AUTH_SECRET, else one random secret per data directory."""
    if settings.auth_secret is not None:
        return settings.auth_secret.get_secret_value().encode()
    return local_secret(settings.data_dir, "auth-secret", 48).encode()


class Tokens:
    """Issues and verifies session tokens signed with one secret."""

    def __init__(self, secret_key: bytes, ttl_seconds: float, clock: Callable[[], float] = time.time):
        if len(secret_key) < 32:
            raise ValueError("the auth secret must be at least 32 bytes: set SWITCHBOARD_AUTH_SECRET")
        self.key, self.ttl, self.clock = secret_key, ttl_seconds, clock

    def issue(self, principal: Principal) -> tuple[str, int]:
        """(token, expires_at epoch millis) for `principal`."""
        now = int(self.clock())
        exp = now + int(self.ttl)
        claims = {"sub": principal.person_id, "ten": principal.tenant_id, "rol": principal.role,
                  "sid": principal.session_id, "nam": principal.name, "iat": now, "exp": exp}
        return jwt.encode(claims, self.key, algorithm=_ALGORITHM), exp * 1000

    def verify(self, token: str) -> Principal:
        """The principal a valid token names, else AuthError."""
        try:
            # Expiry is checked against our clock (tests control it), signature and claims by PyJWT.
            claims = jwt.decode(token, self.key, algorithms=[_ALGORITHM],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["exp", "sub", "ten", "rol", "sid"]})
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"not a valid session token ({exc})") from None
        if claims["exp"] < self.clock():
            raise AuthError("the session has expired: sign in again")
        if claims["rol"] not in ROLES:
            raise AuthError("the token names no known role")
        return Principal(claims["sub"], claims["ten"], claims["rol"], claims["sid"], claims.get("nam", ""))


def new_principal(person: dict, tenant_id: str) -> Principal:
    """A fresh session for a directory person (`id`, `role`, `name`)."""
    return Principal(person["id"], tenant_id, person["role"], uuid.uuid4().hex, person.get("name", ""))


def token_of(request: web.Request) -> str | None:
    """The bearer token, else the session cookie, else None."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def auth_middleware(tokens: Tokens, revoked: Callable[[str], bool], public: tuple[str, ...]):
    """aiohttp middleware: a valid, unrevoked token on every path not starting with a public prefix."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        token = token_of(request)
        principal = None
        if token:
            try:
                principal = tokens.verify(token)
            except AuthError as exc:
                if not _is_public(request.path, public):
                    return _json_error(401, str(exc))
        if principal is not None and revoked(principal.session_id):
            if not _is_public(request.path, public):
                return _json_error(401, "this session was signed out: sign in again")
            principal = None
        if principal is None and not _is_public(request.path, public):
            return _json_error(401, "sign in first: POST /api/v1/auth/login, then send the token")
        request[PRINCIPAL] = principal
        return await handler(request)

    return middleware


def _is_public(path: str, public: tuple[str, ...]) -> bool:
    """An exact public path, or under a public prefix (one ending in "/"; "/" alone is exact)."""
    return any(path == p or (p != "/" and p.endswith("/") and path.startswith(p)) for p in public)


def require(request: web.Request, role: str = "agent") -> Principal:
    """The request's principal if its role ranks at least `role`; 401/403 otherwise."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        raise web.HTTPUnauthorized(text='{"error": "sign in first"}', content_type="application/json")
    if not principal.may(role):
        raise web.HTTPForbidden(text=f'{{"error": "this needs the {role} role"}}', content_type="application/json")
    return principal


def describe(principal: Principal) -> dict:
    """The principal as JSON for `/me` and logs (no secrets in it)."""
    return asdict(principal)
