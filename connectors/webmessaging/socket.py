"""`GET /webmessaging/v1?deploymentId=…`: the guest socket (docs/channels/web.md "The guest API").

Before the upgrade: an unknown or disabled deployment is 404, an `Origin` that is not one of the
deployment's `allowed_origins` is 403 — a page elsewhere cannot open a visitor's session — and a
source address holding `--guest-sockets` open sockets already is 429 (the widget's reconnect
backoff tries again). After it: frames are read one at a time (`guest.Connection`), everything
the socket sends goes through one outbox and one writer, so answers and pushes keep their order;
a watcher tells the visitor when the conversation or the session ends and, while they wait for
an agent, where they stand.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import WSMsgType, web

from connectors.edge import COUNTERS
from connectors.floods import source_of

from .app import WIDGET_MEDIA_SECONDS, webmessaging_of
from .content import WidgetContent
from .guest import Connection
from .hub import Push
from .limits import SOCKET_RETRY_SECONDS
from .protocol import GuestError, answer, error, event, tracing_id
from .queue_status import queue_status
from .sessions import conversation_expires_at, thread_key

log = logging.getLogger("switchboard.webmessaging")
ROUTES = web.RouteTableDef()
HEARTBEAT_SECONDS = 20.0
MAX_FRAME_BYTES = 64 * 1024
TYPING_MS = 5000


@ROUTES.get("/webmessaging/v1")
async def guest_socket(request: web.Request) -> web.WebSocketResponse:
    """Upgrade after the deployment, Origin and per-address socket checks, then serve the guest API."""
    wm = webmessaging_of(request)
    found = wm.deployment(request.query.get("deploymentId"))
    if found is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such deployment (or it is disabled)"}),
                               content_type="application/json")
    tenant, deployment = found
    if request.headers.get("Origin") not in deployment["allowed_origins"]:
        log.warning("%s: guest socket refused for origin %r", deployment["id"], request.headers.get("Origin"))
        raise web.HTTPForbidden(text=json.dumps({"error": "this site is not allowed to open the chat"}),
                                content_type="application/json")
    source, counters, floods = source_of(request.remote), request.app[COUNTERS], wm.floods
    if floods is not None and not floods.open_socket(source):
        counters["guest_socket_flooded"] += 1
        raise web.HTTPTooManyRequests(text=json.dumps({"error": "too many chat windows open from your network"}),
                                      content_type="application/json",
                                      headers={"Retry-After": str(SOCKET_RETRY_SECONDS)})
    try:
        return await _serve(request, Connection(wm, tenant, deployment, asyncio.Queue(), source=source,
                                                counters=counters))
    finally:
        if floods is not None:
            floods.close_socket(source)


async def _serve(request: web.Request, conn: Connection) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    wm = conn.wm
    tasks = [asyncio.create_task(_write(socket, conn, WidgetContent(wm.media, wm.public_url, WIDGET_MEDIA_SECONDS))),
             asyncio.create_task(_watch(conn))]
    try:
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                conn.outbox.put_nowait(await handle(conn, message.data))
                await conn.settle()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn.detach()
    return socket


async def handle(conn: Connection, text: str) -> dict:
    """One client frame → its answer or error frame."""
    try:
        frame = json.loads(text)
    except ValueError:
        frame = None
    if not isinstance(frame, dict):
        return error(None, None, GuestError("bad_request", "every frame is one JSON object with an `action`"))
    action, tracing = frame.get("action"), tracing_id(frame)
    run = conn.actions.get(action) if isinstance(action, str) else None
    if run is None:
        return error(action if isinstance(action, str) else None, tracing,
                     GuestError("bad_request", f"unknown action: one of {', '.join(conn.actions)}"))
    try:
        return answer(action, tracing, await run(frame))
    except GuestError as failure:
        return error(action, tracing, failure)
    except Exception:   # a bug must not close the visitor's socket (the widget would reconnect in a loop)
        log.exception("%s: %s failed", conn.deployment["id"], action)
        return error(action, tracing, GuestError("unavailable", "something went wrong on our side: try again"))


async def _write(socket: web.WebSocketResponse, conn: Connection, shown: WidgetContent) -> None:
    while True:
        item = await conn.outbox.get()
        await socket.send_json(render(shown, item) if isinstance(item, Push) else item)


def render(shown: WidgetContent, push: Push) -> dict:
    """A guest event from Kafka as the widget receives it."""
    e = push.event
    if e["type"] == "typing":
        return event("typing", {"senderName": e.get("sender_name"), "durationMs": TYPING_MS}, push.id)
    body = shown.message(message_id=e["message_id"], direction="outbound", items=e["content"], text=e.get("text"),
                         sent_at=e["occurred_at"], sender_name=e.get("sender_name"),
                         conversation_id=e.get("conversation_id"))
    return event("message", body, push.id)


async def _watch(conn: Connection) -> None:
    while True:
        await conn.wm.sleep(_until_next(conn))
        try:
            await check(conn)
        except Exception as exc:   # a failed check (ClickHouse down) must not end the socket
            log.warning("guest checks of %s failed: %s", conn.deployment["id"], exc)


def _until_next(conn: Connection) -> float:
    """Seconds to the next check: the tick, or sooner when the conversation or the session ends first."""
    session, now = conn.session, conn.wm.now()
    if session is None:
        return conn.wm.tick_seconds
    ends = [t for t in (conversation_expires_at(session, conn.deployment), session["expires_at"]) if t and t > now]
    return max(0.05, min([conn.wm.tick_seconds] + [(t - now) / 1000 for t in ends]))


async def check(conn: Connection) -> None:
    """Tell the visitor what time did: the session or the conversation ended; their place in the queue."""
    session, now = conn.session, conn.wm.now()
    if session is None:
        return
    if session["expires_at"] <= now and "sessionExpired" not in conn.told:
        conn.told.add("sessionExpired")
        conn.outbox.put_nowait(event("sessionExpired", {"at": session["expires_at"]}))
        return
    ends = conversation_expires_at(session, conn.deployment)
    if ends is not None and ends <= now and "conversationEnded" not in conn.told:
        conn.told.add("conversationEnded")
        conn.outbox.put_nowait(event("conversationEnded", {"at": ends}))
        return
    if ends is not None and ends > now and conn.wm.clickhouse is not None:
        waiting = await asyncio.to_thread(queue_status, conn.wm.clickhouse(), conn.tenant, thread_key(session))
        if waiting is not None:
            conn.outbox.put_nowait(event("queueStatus", waiting))
