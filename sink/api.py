"""The report API (JSON over HTTP), served by the sink process beside ClickHouse's interface.

    GET /api/v1/customers/{customer_id}/history[?before=CURSOR][&limit=N]
    GET /api/v1/summary
    GET /api/v1/reports[/{view}…]          the report views (sink/report_routes.py, docs/reports.md)

Behind the one auth middleware (switchboard.auth, docs/workspace.md): a session token (history:
supervisor or above; summary: admin), and everything is the token's tenant's — a `?tenant=`
naming another tenant is refused (403), never followed. ClickHouse's own interface on the same
port is not part of this sub-application (it has its own users: sink/http.py). A customer's
history is an access-audit fact (who, what, when) the broker acknowledged before it is answered,
when an auditor is given (sink/audit.py; `switchboard sink` always gives one).
"""
from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from switchboard.audit import read_fact
from switchboard.auth import Principal, auth_middleware, require

from .history import history
from .reports import tenant_summary_counts

STORE = web.AppKey("store", object)
AUDIT = web.AppKey("audit", object)   # async fact -> None (sink.audit.Auditor), or None


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def scoped(request: web.Request, role: str) -> Principal:
    """The caller (401/403 as `require`), refusing a `?tenant=` other than its token's (403)."""
    principal = require(request, role)
    asked = request.query.get("tenant")
    if asked is not None and asked != principal.tenant_id:
        raise web.HTTPForbidden(text=json.dumps({"error": "a session sees its own tenant only: drop ?tenant="}),
                                content_type="application/json")
    return principal


async def customer_history(request: web.Request) -> web.Response:
    """One page of a customer's history across channels, newest first (`next`: older page)."""
    principal = scoped(request, "supervisor")
    try:
        limit = int(request.query.get("limit", "50"))
        page = await asyncio.to_thread(history, request.app[STORE], principal.tenant_id,
                                       request.match_info["customer_id"],
                                       request.query.get("before"), limit)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    await _audited(request, principal, page)
    return web.json_response(page)


async def _audited(request: web.Request, principal: Principal, page: dict) -> None:
    from .audit import NotRecorded

    if request.app[AUDIT] is None:
        return
    fact = read_fact(principal, "customer_history", f"{request.method} {request.path}", int(time.time() * 1000),
                     origin="sink", customer_id=request.match_info["customer_id"], items=len(page["messages"]))
    try:
        await request.app[AUDIT](fact)
    except NotRecorded:
        raise web.HTTPServiceUnavailable(text=json.dumps({"error": "the read could not be audited: try again"}),
                                         content_type="application/json") from None


async def summary(request: web.Request) -> web.Response:
    """The caller's tenant's conversations, customers (after merges), messages and fact rows."""
    principal = scoped(request, "admin")
    counts = await asyncio.to_thread(tenant_summary_counts, request.app[STORE], principal.tenant_id)
    return web.json_response({"tenant": principal.tenant_id} | counts)


def api_routes(app: web.Application, store, tokens, revoked, audit=None) -> None:
    """Mount the report API on `app` under /api/v1, behind the auth middleware (reads audited by `audit`)."""
    api = web.Application(middlewares=[auth_middleware(tokens, revoked, public=())])
    api[STORE], api[AUDIT] = store, audit
    api.router.add_get("/customers/{customer_id}/history", customer_history)
    api.router.add_get("/summary", summary)
    # Imported here: report_routes takes `scoped` from this module (and the edge mounts it too).
    from .report_routes import add_report_routes

    add_report_routes(api, lambda request: request.app[STORE], prefix="", audit=audit)
    app.add_subapp("/api/v1", api)
