"""`GET /webmessaging/v1/history`: this session's own messages, newest first, paged by cursor.

The history token (10 minutes, HS256 under a key of its own) names one deployment and one session;
the query filters message facts by that session's thread key only — never the merged,
cross-channel history an agent sees (docs/channels/web.md "History").
"""
from __future__ import annotations

import asyncio
import json
import logging

import jwt
from aiohttp import web

from sink.history import parse_cursor

from .app import WIDGET_MEDIA_SECONDS, webmessaging_of
from .content import WidgetContent
from .cors import flooded, json_answer, preflight
from .sessions import thread_key

log = logging.getLogger("switchboard.webmessaging")
ROUTES = web.RouteTableDef()
TOKEN_SECONDS = 600
MAX_PAGE = 100
METHODS = "GET, OPTIONS"
MS = "toUnixTimestamp64Milli"


def history_sql(paged: bool) -> str:
    """One page of one thread's messages (message_facts, DDL 0001/0016), newest first."""
    before = f"AND ({MS}(occurred_at), message_id) < ({{before_ms:Int64}}, {{before_id:String}})" if paged else ""
    return f"""SELECT message_id, direction, text, content, {MS}(occurred_at) AS sent_at, sender_name, conversation_id,
       agent_id
FROM message_facts FINAL
WHERE tenant_id = {{tenant:String}} AND thread_key = {{thread:String}} AND occurred_at IS NOT NULL {before}
ORDER BY occurred_at DESC, message_id DESC LIMIT {{limit:UInt32}}"""


def issue(wm, session: dict) -> tuple[str, int]:
    """(token, expires_at ms) for reading this session's history."""
    now = int(wm.clock())
    claims = {"dep": session["deployment_id"], "sid": session["session_id"], "iat": now, "exp": now + TOKEN_SECONDS}
    return jwt.encode(claims, wm.key("history"), algorithm="HS256"), (now + TOKEN_SECONDS) * 1000


def history_url(wm, session: dict) -> str:
    """Where the widget reads this session's history."""
    return (f"{wm.public_url}/webmessaging/v1/history?deploymentId={session['deployment_id']}"
            f"&sessionId={session['session_id']}")


def verified(wm, token: str | None, deployment_id: str, session_id: str) -> bool:
    """Whether `token` is ours, unexpired, and for exactly this deployment and session."""
    if not token:
        return False
    try:
        claims = jwt.decode(token, wm.key("history"), algorithms=["HS256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "require": ["exp", "dep", "sid"]})
    except jwt.InvalidTokenError:
        return False
    return claims["exp"] >= wm.clock() and claims["dep"] == deployment_id and claims["sid"] == session_id


def page(client, tenant: str, thread: str, before: str | None, limit: int) -> tuple[list[tuple], str | None]:
    """(rows, cursor of the next older page)."""
    params = {"tenant": tenant, "thread": thread, "limit": limit + 1}
    if before:
        params["before_ms"], params["before_id"] = parse_cursor(before)
    rows = client.query(history_sql(bool(before)), parameters=params).result_rows
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (f"{rows[-1][4]}:{rows[-1][0]}" if more else None)


preflight(ROUTES, "/webmessaging/v1/history", METHODS)   # CORS from the deployment's site


@ROUTES.get("/webmessaging/v1/history")
async def history(request: web.Request) -> web.Response:
    """`?deploymentId&sessionId&pageSize&before` with `Authorization: Bearer <historyToken>`."""
    wm, q = webmessaging_of(request), request.query
    found = wm.deployment(q.get("deploymentId"))
    deployment = found and found[1]
    if (refused := flooded(request, wm, deployment, METHODS)) is not None:   # each page is a ClickHouse query
        return refused
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else None
    if found is None or not verified(wm, token, q.get("deploymentId", ""), q.get("sessionId", "")):
        return json_answer(request, deployment, METHODS, {"error": "a valid history token of this session "
                                                          "(configureSession gives one) is needed"}, 401)
    session = wm.sessions.by_id(deployment["id"], q["sessionId"])
    if session is None or wm.clickhouse is None:
        return json_answer(request, deployment, METHODS, {"messages": [], "nextBefore": None})
    try:
        size = max(1, min(int(q.get("pageSize", "25")), MAX_PAGE))
        rows, next_before = await asyncio.to_thread(page, wm.clickhouse(), found[0], thread_key(session),
                                                    q.get("before") or None, size)
    except ValueError as exc:
        return json_answer(request, deployment, METHODS, {"error": str(exc)}, 400)
    except Exception as exc:   # ClickHouse not answering: the widget shows what it has
        log.warning("history of %s/%s unavailable: %s", deployment["id"], session["session_id"], exc)
        return json_answer(request, deployment, METHODS, {"error": f"history is unavailable: {exc}"}, 503)
    shown = WidgetContent(wm.media, wm.public_url, WIDGET_MEDIA_SECONDS)
    agents = {a: (wm.directory.person(found[0], a) or {}).get("name") for a in {r[7] for r in rows} if a}
    return json_answer(request, deployment, METHODS, {"messages": [_row(shown, r, agents) for r in rows],
                                                       "nextBefore": next_before})


def _row(shown: WidgetContent, row: tuple, agents: dict[str, str | None]) -> dict:
    message_id, direction, text, content, sent_at, sender_name, conversation_id, agent_id = row
    items = json.loads(content) if content else []
    return shown.message(message_id=message_id, direction=direction or "inbound", items=items, text=text,
                         sent_at=sent_at, sender_name=sender_name or agents.get(agent_id),
                         conversation_id=conversation_id)

