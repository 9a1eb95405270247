"""Who may read or act on a conversation (docs/workspace.md; issue 10 item 3).

An agent: only conversations the book has offered or assigned to them, in their tenant (403
otherwise — another tenant's conversation is never in their book). A supervisor: any
conversation of their tenant (from the book, else the conversation facts).
"""
from __future__ import annotations

from aiohttp import web

from switchboard.auth import require

from . import queries
from .app import fail, query, workspace_of

NOT_YOURS = "this conversation is not offered or assigned to you"


async def conversation(request: web.Request, *, connected: bool = False, supervisor: bool = True) -> tuple:
    """(principal, conversation view, agent id it is with) for the route's `{id}`, or 403/404/409."""
    ws, principal = workspace_of(request), require(request, "agent")
    cid = request.match_info["id"]
    entry = ws.book.entry(principal.tenant_id, principal.person_id, cid, ws.now())
    if entry is not None and principal.role == "agent":
        if connected and entry.state != "connected":
            raise fail(409, f"the conversation is {entry.state}: accept the offer first" if entry.state == "offered"
                       else f"the conversation is {entry.state}: you are no longer connected to it")
        return principal, entry.view(), principal.person_id
    if principal.role == "agent" or not supervisor:
        raise fail(403, NOT_YOURS)
    return (principal, *await _for_supervisor(request, principal, cid, connected))


async def _for_supervisor(request: web.Request, principal, cid: str, connected: bool) -> tuple[dict, str | None]:
    ws = workspace_of(request)
    holders = ws.book.holders(principal.tenant_id, cid)
    live = [(agent, e) for agent, e in holders if e.state == "connected"] or holders
    if live:
        agent, entry = live[0]
        return entry.view(), agent
    if connected:
        raise fail(409, "no agent is connected to this conversation")
    facts = await query(request, queries.conversation, principal.tenant_id, cid)
    if facts is None:
        raise fail(404, f"no conversation {cid} in your tenant")
    return facts, None
