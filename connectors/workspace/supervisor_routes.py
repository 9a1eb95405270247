"""The supervisor's routes: agents with presence and load, queues with their wait, a conversation's
timeline and the routing explanation of each offer — all within the supervisor's tenant."""
from __future__ import annotations

from collections import Counter

from aiohttp import web

from switchboard.auth import require

from . import queries
from .access import conversation
from .app import query, workspace_of

ROUTES = web.RouteTableDef()


@ROUTES.get("/api/v1/supervisor/agents")
async def agents(request: web.Request) -> web.Response:
    """Every agent of the tenant: presence, and how many conversations by state."""
    ws, p = workspace_of(request), require(request, "supervisor")
    found = []
    for agent in ws.directory.people(p.tenant_id, "agent"):
        page = ws.book.page(p.tenant_id, agent["id"])
        load = Counter(e.state for e in ws.book.conversations(p.tenant_id, agent["id"], ws.now()))
        found.append({"id": agent["id"], "name": agent.get("name"), "queues": list(agent.get("queues", ())),
                      "capacity": agent.get("capacity", {}), "presence": page.presence, "load": dict(load),
                      "disabled": bool(agent.get("disabled"))})
    return web.json_response({"agents": found})


@ROUTES.get("/api/v1/supervisor/queues")
async def queues(request: web.Request) -> web.Response:
    """Every queue: waiting now and since when (the conversation facts), offers alerting (the book)."""
    ws, p = workspace_of(request), require(request, "supervisor")
    waiting = await query(request, queries.waiting, p.tenant_id)
    alerting = Counter(e.fields.get("queue_id") for (t, _a), page in ws.book.agents.items() if t == p.tenant_id
                       for e in page.conversations.values() if e.state == "offered")
    configured = sorted(((ws.directory.routing(p.tenant_id) or {}).get("queues") or {}))
    now = ws.now()
    return web.json_response({"queues": [
        {"id": q, "waiting": waiting.get(q, {}).get("waiting", 0), "alerting": alerting.get(q, 0),
         "longest_wait_ms": now - waiting[q]["oldest"] if waiting.get(q, {}).get("oldest") else 0}
        for q in configured]})


@ROUTES.get("/api/v1/supervisor/conversations/{id}/timeline")
async def timeline(request: web.Request) -> web.Response:
    """Assignments, segments and messages of one conversation, oldest first."""
    principal, view, _agent = await _supervised(request)
    events = await query(request, queries.timeline, principal.tenant_id, request.match_info["id"])
    return web.json_response({"conversation": view, "events": events})


@ROUTES.get("/api/v1/supervisor/conversations/{id}/decisions")
async def decisions(request: web.Request) -> web.Response:
    """The routing_decisions audit of one conversation: why each offer went where it went."""
    principal, _view, _agent = await _supervised(request)
    found = await query(request, queries.decisions, principal.tenant_id, request.match_info["id"])
    return web.json_response({"decisions": found})


async def _supervised(request: web.Request) -> tuple:
    require(request, "supervisor")
    return await conversation(request)
