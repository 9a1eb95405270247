"""The admin API: directory entries of the admin's own tenant (docs/workspace.md, the directory)."""
from __future__ import annotations

import asyncio

from aiohttp import web

from switchboard.auth import hash_password, require
from switchboard.errors import UserError

from .app import body_of, fail, workspace_of
from .auth_routes import public_person

# path segment -> directory kind; `tenant` and `routing` are one entry per tenant.
COLLECTIONS = {"people": "person", "canned-responses": "canned_response"}
SINGLE = {"tenant": None, "routing": "config"}   # kind -> entry id (None: the tenant id)


def _shown(kind: str, body: dict) -> dict:
    return public_person(body) if kind == "person" else body


async def _put(request: web.Request, kind: str, entry_id: str, body: dict | None) -> None:
    ws, p = workspace_of(request), require(request, "admin")
    try:
        await asyncio.to_thread(ws.writer.put, p.tenant_id, kind, entry_id, body, p.person_id)
    except UserError as exc:
        raise fail(400, str(exc)) from None


async def list_entries(request: web.Request, kind: str) -> web.Response:
    """Every entry of the collection in the admin's tenant."""
    ws, p = workspace_of(request), require(request, "admin")
    return web.json_response({"entries": [_shown(kind, e) for e in ws.directory.all(p.tenant_id, kind)]})


async def get_entry(request: web.Request, kind: str) -> web.Response:
    """One entry (404 when there is none)."""
    ws, p = workspace_of(request), require(request, "admin")
    found = ws.directory.get(p.tenant_id, kind, request.match_info["entry_id"])
    if found is None:
        raise fail(404, f"no {kind} {request.match_info['entry_id']} in your tenant")
    return web.json_response(_shown(kind, found))


async def put_entry(request: web.Request, kind: str) -> web.Response:
    """Create or replace an entry; a person's `password` is hashed here and never stored as given."""
    entry_id = request.match_info["entry_id"]
    body = await body_of(request)
    body.pop("id", None)
    if kind == "person":
        password = body.pop("password", None)
        if password is not None:
            body["password_hash"] = await asyncio.to_thread(hash_password, str(password))
        elif "password_hash" not in body:   # keep the current password when none is given
            current = workspace_of(request).directory.person(require(request, "admin").tenant_id, entry_id)
            if current and current.get("password_hash"):
                body["password_hash"] = current["password_hash"]
    await _put(request, kind, entry_id, body)
    return web.json_response({**_shown(kind, body), "id": entry_id})


async def delete_entry(request: web.Request, kind: str) -> web.Response:
    """Delete an entry (a tombstone on the directory topic)."""
    entry_id = request.match_info["entry_id"]
    await _put(request, kind, entry_id, None)
    return web.json_response({"deleted": entry_id})


async def get_single(request: web.Request, kind: str) -> web.Response:
    """The tenant entry, or the routing configuration."""
    ws, p = workspace_of(request), require(request, "admin")
    entry_id = SINGLE[kind]
    found = ws.directory.get(p.tenant_id, kind, entry_id or p.tenant_id)
    if found is None:
        raise fail(404, f"your tenant has no {kind} entry yet: PUT one")
    return web.json_response(found)


async def put_single(request: web.Request, kind: str) -> web.Response:
    """Replace the tenant entry or the routing configuration (routing picks it up live)."""
    p = require(request, "admin")
    entry_id = SINGLE[kind]
    body = await body_of(request)
    body.pop("id", None)
    await _put(request, kind, entry_id or p.tenant_id, body)
    return web.json_response({**body, "id": entry_id or p.tenant_id})


def _bound(handler, kind: str):
    async def route(request: web.Request) -> web.Response:
        return await handler(request, kind)
    route.__doc__ = handler.__doc__
    return route


ROUTES = [route for segment, kind in COLLECTIONS.items() for route in (
    web.get(f"/api/v1/admin/{segment}", _bound(list_entries, kind)),
    web.get(f"/api/v1/admin/{segment}/{{entry_id}}", _bound(get_entry, kind)),
    web.put(f"/api/v1/admin/{segment}/{{entry_id}}", _bound(put_entry, kind)),
    web.delete(f"/api/v1/admin/{segment}/{{entry_id}}", _bound(delete_entry, kind)))]
ROUTES += [route for kind in SINGLE for route in (web.get(f"/api/v1/admin/{kind}", _bound(get_single, kind)),
                                                  web.put(f"/api/v1/admin/{kind}", _bound(put_single, kind)))]
