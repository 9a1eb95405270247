"""The supervisor's routes: agents with presence and load, queues with their wait, a conversation's
timeline and the routing explanation of each offer — all within the supervisor's tenant."""
from __future__ import annotations

from collections import Counter

from aiohttp import web

from switchboard.auth import require

from . import queries, records
from .access import conversation
from .app import body_of, fail, publish, query, workspace_of
from .audit import audited
from .customers import merge_of

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


CLOSING_SOON_MS = 3600_000   # a waiting conversation whose reply window closes within an hour is flagged


@ROUTES.get("/api/v1/supervisor/waiting")
async def waiting(request: web.Request) -> web.Response:
    """Waiting conversations with their reply deadline: those closing within an hour first, flagged."""
    ws, p = workspace_of(request), require(request, "supervisor")
    found, now = await query(request, queries.waiting_list, p.tenant_id), ws.now()
    for conv in found:
        view = ws.policies.thread(p.tenant_id, conv["conversation_id"]) or {}
        deadline = view.get("reply_deadline_at")
        conv |= {"waiting_ms": now - conv["started_at"], "reply_deadline_at": deadline,
                 "template_only": bool(view.get("template_only")) or (deadline is not None and deadline <= now),
                 "closing_soon": deadline is not None and now < deadline <= now + CLOSING_SOON_MS}
    found.sort(key=lambda c: (not c["closing_soon"], c["reply_deadline_at"] if c["closing_soon"] else 0,
                              c["started_at"]))
    return web.json_response({"waiting": found, "closing_soon": sum(c["closing_soon"] for c in found)})


@ROUTES.get("/api/v1/supervisor/conversations/{id}/timeline")
async def timeline(request: web.Request) -> web.Response:
    """Assignments, segments and messages of one conversation, oldest first."""
    principal, view, _agent = await _supervised(request)
    events = await query(request, queries.timeline, principal.tenant_id, request.match_info["id"])
    await audited(request, principal, "conversation_timeline", conversation_id=view["conversation_id"],
                  customer_id=view.get("customer_id"), items=len(events))
    return web.json_response({"conversation": view, "events": events})


@ROUTES.get("/api/v1/supervisor/conversations/{id}/decisions")
async def decisions(request: web.Request) -> web.Response:
    """The routing_decisions audit of one conversation: why each offer went where it went."""
    principal, view, _agent = await _supervised(request)
    found = await query(request, queries.decisions, principal.tenant_id, request.match_info["id"])
    await audited(request, principal, "routing_decisions", conversation_id=view["conversation_id"],
                  customer_id=view.get("customer_id"), items=len(found))
    return web.json_response({"decisions": found})


async def _supervised(request: web.Request) -> tuple:
    require(request, "supervisor")
    return await conversation(request)


@ROUTES.post("/api/v1/customers/{id}/split")
async def split(request: web.Request) -> web.Response:
    """`{customer_id}`: undo the merge of this customer and that one (a supervisor's or admin's decision,
    audited as identity-event `split`); new events of each customer's threads are theirs again."""
    ws, p = workspace_of(request), require(request, "supervisor")
    body = await body_of(request)
    other = str(body.get("customer_id") or "")
    merge = await query(request, merge_of, p.tenant_id, request.match_info["id"], other) if other else None
    if merge is None:
        raise fail(404, "these two customers were not merged (send {customer_id} of the customer merged with it)")
    entry = {"thread_key": merge["thread_key"], "claimant": merge["merged_customer_id"]}
    await publish(request, [records.claim(ws.codec, p, entry, merge["detail_type"], merge["detail_value"], ws.now(),
                                          action="split", other_customer_id=merge["customer_id"])])
    return web.json_response({"split": merge["merged_customer_id"], "from": merge["customer_id"]}, status=202)
