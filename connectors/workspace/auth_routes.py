"""Sign-in, sign-out, who am I, and presence (docs/workspace.md, the agent API)."""
from __future__ import annotations

import asyncio

from aiohttp import web

from switchboard.auth import COOKIE, new_principal, require, verify_password

from . import records
from .app import body_of, fail, principal_of, publish, workspace_of

ROUTES = web.RouteTableDef()
PRESENCE = ("available", "away", "offline")
HIDDEN = ("password_hash",)


def public_person(person: dict) -> dict:
    """A directory person without what must never leave the server."""
    return {k: v for k, v in person.items() if k not in HIDDEN}


@ROUTES.post("/api/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    """`{tenant, username, password}` -> a session token (also set as the HttpOnly cookie)."""
    ws, body = workspace_of(request), await body_of(request)
    tenant, username, password = (str(body.get(k) or "") for k in ("tenant", "username", "password"))
    person = ws.directory.person(tenant, username) if tenant and username else None
    hashed = (person or {}).get("password_hash")
    # Verify even for an unknown user would be timing-safer; argon2 is slow either way, and the
    # answer is the same one line for every failure, so it does not say which part was wrong.
    if not hashed or person.get("disabled") or not await asyncio.to_thread(verify_password, hashed, password):
        raise fail(401, "wrong tenant, username or password")
    principal = new_principal(person, tenant)
    token, expires_at = ws.tokens.issue(principal)
    response = web.json_response({"token": token, "expires_at": expires_at, "person": public_person(person)})
    response.set_cookie(COOKIE, token, max_age=int(ws.tokens.ttl), httponly=True, samesite="Strict", path="/",
                        secure=request.secure)
    return response


@ROUTES.post("/api/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    """Revoke the session; an agent goes offline (offers revoked, conversations requeued: `signed_out`)."""
    ws, principal = workspace_of(request), require(request, "agent")
    expires_at = ws.now() + int(ws.tokens.ttl * 1000)   # a bound on the token's own expiry
    await asyncio.to_thread(ws.writer.put, principal.tenant_id, "session_revoked", principal.session_id,
                            {"expires_at": expires_at}, principal.person_id)
    if principal.role == "agent":
        await publish(request, [records.action(ws.codec, principal.tenant_id, principal.person_id, "signed_out",
                                               ws.now())])
    response = web.json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


@ROUTES.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    """The person, their presence as routing last told them, queues, capacity, last event id."""
    ws, principal = workspace_of(request), require(request, "agent")
    person = ws.directory.person(principal.tenant_id, principal.person_id)
    if person is None:
        raise fail(404, "you are no longer in the directory: ask an admin")
    page = ws.book.page(principal.tenant_id, principal.person_id)
    return web.json_response({"person": public_person(person), "role": principal.role, "tenant_id": principal.tenant_id,
                              "presence": page.presence, "queues": list(person.get("queues", ())),
                              "capacity": person.get("capacity", {}), "last_event_id": page.last_event_id})


@ROUTES.put("/api/v1/me/presence")
async def presence(request: web.Request) -> web.Response:
    """`{presence, on_queue}` -> an agent-actions presence (routing answers with presence_changed)."""
    ws, principal, body = workspace_of(request), require(request, "agent"), await body_of(request)
    if body.get("presence") not in PRESENCE or not isinstance(body.get("on_queue", False), bool):
        raise fail(400, "send {presence: available|away|offline, on_queue: true|false}")
    # agent-action's Presence: on_queue is `available` and taking offers.
    value = "on_queue" if body["presence"] == "available" and body.get("on_queue") else body["presence"]
    await publish(request, [records.action(ws.codec, principal.tenant_id, principal.person_id, "presence", ws.now(),
                                           presence=value)])
    return web.json_response({"presence": value}, status=202)
