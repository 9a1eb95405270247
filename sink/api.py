"""The report API (JSON over HTTP), served by the sink process beside ClickHouse's interface.

    GET /api/v1/customers/{customer_id}/history?tenant=T[&before=CURSOR][&limit=N]
    GET /api/v1/summary
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from .history import history
from .reports import summary_counts

STORE = web.AppKey("store", object)


async def customer_history(request: web.Request) -> web.Response:
    """One page of a customer's history across channels, newest first (`next`: older page)."""
    tenant = request.query.get("tenant")
    if not tenant:
        raise web.HTTPBadRequest(text="tenant is required: ?tenant=<tenant id>")
    try:
        limit = int(request.query.get("limit", "50"))
        page = await asyncio.to_thread(history, request.app[STORE], tenant,
                                       request.match_info["customer_id"],
                                       request.query.get("before"), limit)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(page)


async def summary(request: web.Request) -> web.Response:
    """Conversations, customers (after merges), messages and fact rows."""
    return web.json_response(await asyncio.to_thread(summary_counts, request.app[STORE]))


def api_routes(app: web.Application, store) -> None:
    """Mount the report API on `app`."""
    app[STORE] = store
    app.router.add_get("/api/v1/customers/{customer_id}/history", customer_history)
    app.router.add_get("/api/v1/summary", summary)
