"""The report API (JSON over HTTP), served by the sink process beside ClickHouse's interface.

    GET /api/v1/customers/{customer_id}/history[?before=CURSOR][&limit=N]
    GET /api/v1/summary

Behind the one auth middleware (switchboard.auth, docs/workspace.md): a session token of role
supervisor or above; the history is the token's tenant's — a `?tenant=` is ignored. ClickHouse's
own interface on the same port is not part of this sub-application.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from switchboard.auth import auth_middleware, require

from .history import history
from .reports import summary_counts

STORE = web.AppKey("store", object)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def customer_history(request: web.Request) -> web.Response:
    """One page of a customer's history across channels, newest first (`next`: older page)."""
    principal = require(request, "supervisor")
    try:
        limit = int(request.query.get("limit", "50"))
        page = await asyncio.to_thread(history, request.app[STORE], principal.tenant_id,
                                       request.match_info["customer_id"],
                                       request.query.get("before"), limit)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return web.json_response(page)


async def summary(request: web.Request) -> web.Response:
    """Conversations, customers (after merges), messages and fact rows (every tenant: operators only)."""
    require(request, "admin")
    return web.json_response(await asyncio.to_thread(summary_counts, request.app[STORE]))


def api_routes(app: web.Application, store, tokens, revoked) -> None:
    """Mount the report API on `app` under /api/v1, behind the auth middleware."""
    api = web.Application(middlewares=[auth_middleware(tokens, revoked, public=())])
    api[STORE] = store
    api.router.add_get("/customers/{customer_id}/history", customer_history)
    api.router.add_get("/summary", summary)
    app.add_subapp("/api/v1", api)
