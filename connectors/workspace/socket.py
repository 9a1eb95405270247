"""`GET /api/v1/ws?since=<event id>`: the one push socket of an agent page (docs/workspace.md).

Authenticated by the middleware (the `sb_token` cookie, or a bearer token). On connect the edge
records `page_open` for an agent and, with `since`, replays that agent's events after it before
going live; when the last socket of the agent on this process closes it records `page_closed`
(the ACD times the presence grace itself, so a reconnect to any replica cancels it).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMsgType, web

from connectors.publisher import PublishError
from switchboard.auth import require

from . import records
from .app import fail, workspace_of
from .hub import Session
from .notifications import parse_event_id

log = logging.getLogger("switchboard.workspace")
ROUTES = web.RouteTableDef()
HEARTBEAT_SECONDS = 20.0   # protocol-level ping; a dead page is noticed within about this


@ROUTES.get("/api/v1/ws")
async def push_socket(request: web.Request) -> web.WebSocketResponse:
    """Server -> page: agent-notifications events with `id`; page -> server: ack, ping."""
    ws, principal = workspace_of(request), require(request, "agent")
    try:
        since = parse_event_id(request.query["since"]) if request.query.get("since") else None
    except ValueError as exc:
        raise fail(400, str(exc)) from None
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS)
    await socket.prepare(request)
    session = Session(principal.tenant_id, principal.person_id, since)
    await ws.hub.attach(session, since)
    is_agent = principal.role == "agent"
    if is_agent:
        await _record(ws, principal, "page_open")
    writer = asyncio.create_task(_write(socket, session, ws.page_media))
    try:
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                _answer(session, message)
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        if ws.hub.detach(session) and is_agent:
            await _record(ws, principal, "page_closed")
    return socket


async def _write(socket: web.WebSocketResponse, session: Session, media) -> None:
    # Media items are signed here, on the way out, for live and replayed events alike: one writer
    # per socket keeps the order even while an item nobody prefetched is being fetched.
    while True:
        event = await session.queue.get()
        await socket.send_json(await media.event(event))


def _answer(session: Session, message) -> None:
    """Answers go through the session's queue: one writer per socket keeps frames in order."""
    try:
        data = message.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        session.queue.put_nowait({"type": "error", "error": "send JSON: {type: ack|ping}"})
    elif data.get("type") == "ping":
        session.queue.put_nowait({"type": "pong"})
    elif data.get("type") == "ack":
        session.acked = data.get("id")   # the page reconnects with ?since=<the id it last rendered>


async def _record(ws, principal, kind: str) -> None:
    """page_open / page_closed on agent-actions; a lost one only shifts the grace timer (logged)."""
    try:
        await ws.publisher.publish([records.action(ws.codec, principal.tenant_id, principal.person_id, kind,
                                                   ws.now())])
    except (PublishError, ValueError) as exc:
        log.warning("%s of %s not recorded: %s", kind, principal.person_id, exc)
