"""The report API's views (sink/views), one implementation for the sink and the edge's ops page.

    GET /api/v1/reports                          the views, their parameters and columns
    GET /api/v1/reports/{view}?from=…&to=…&granularity=30m&tz=Europe/Paris&queue=a&queue=b&…&format=json|csv
    GET /api/v1/reports/interaction/{conversation_id}[?format=csv]

Supervisor or above (switchboard.auth, behind the app's auth middleware), always the token's
tenant (a `?tenant=` naming another is refused, 403: sink.api.scoped); a bad parameter is a 400
whose one line names the fix; a conversation's timeline is an access-audit fact the broker
acknowledged before it is answered, when an auditor is given (as the customer history).
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Callable
from datetime import date, datetime, timezone

from aiohttp import web

from switchboard.audit import read_fact

from .api import scoped
from .report_params import bind
from .views import BadParameter, View, columns, run, view, views

AUDITOR = web.AppKey("report_auditor", object)   # async fact -> None (sink.audit.Auditor), or None
FORMATS = ("json", "csv")


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


def value(v):
    """A result value as JSON carries it: instants in ISO 8601 with their offset, arrays as lists."""
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat(timespec="milliseconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    return v


def as_csv(names: list[str], rows: list[tuple]) -> str:
    """A header row, then one line per row (NULL empty, arrays joined with ';')."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        cells = [value(v) for v in row]
        writer.writerow(["" if c is None else ";".join(map(str, c)) if isinstance(c, list) else c for c in cells])
    return out.getvalue()


def answer(request: web.Request, name: str, names: list[str], rows: list[tuple]) -> web.Response:
    """The result as JSON {"view", "columns", "rows"} or, with format=csv, as CSV."""
    if request.query.get("format", "json") == "csv":
        return web.Response(text=as_csv(names, rows), content_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return web.json_response({"view": name, "columns": names, "rows": [[value(v) for v in r] for r in rows]})


def _describe(client, v: View) -> dict:
    return {"name": v.name, "title": v.title, "parameters": v.parameters,
            "columns": [{"name": n, "type": t} for n, t in columns(client, v)]}


def add_report_routes(app: web.Application, client_of: Callable[[web.Request], object], *,
                      prefix: str = "/api/v1", audit=None, origin: str = "sink") -> None:
    """Add the report routes to `app` (behind its auth middleware); `client_of(request)` gives the
    ClickHouse client (anything with `query(sql, parameters=…)`), `audit` records timeline reads
    as answered by `origin` (sink, or edge)."""
    app[AUDITOR] = (audit, origin)

    described: list = []   # the views' columns, asked once per process (a failed DESCRIBE is not kept)

    async def listing(request: web.Request) -> web.Response:
        scoped(request, "supervisor")

        def describe() -> list:   # in a thread: the client's first (lazy) connect may take seconds
            client = client_of(request)
            return [_describe(client, v) for v in views().values()]
        if not described:
            described.extend(await asyncio.to_thread(describe))
        return web.json_response({"views": described})

    async def report(request: web.Request) -> web.Response:
        principal = scoped(request, "supervisor")
        given = {k: request.query.getall(k) for k in request.query}
        conversation = request.match_info.get("conversation_id")
        try:
            if request.query.get("format", "json") not in FORMATS:
                raise BadParameter(f"format={request.query['format']!r}: give format=json or format=csv")
            v = view("interaction" if conversation is not None else request.match_info["view"])
            params = bind(v, principal.tenant_id, given | ({"conversation": [conversation]} if conversation else {}))
        except BadParameter as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None
        names, rows = await asyncio.to_thread(lambda: run(client_of(request), v, params))
        if "conversation" in params:
            await _audited(request, principal, params["conversation"], len(rows))
        return answer(request, v.name, names, rows)

    app.router.add_get(f"{prefix}/reports", listing)
    app.router.add_get(f"{prefix}/reports/interaction/{{conversation_id}}", report)
    app.router.add_get(f"{prefix}/reports/{{view}}", report)


async def _audited(request: web.Request, principal, conversation_id: str, items: int) -> None:
    """Publish the read of a conversation's timeline; 503 when the broker did not record it."""
    from .audit import NotRecorded

    audit, origin = request.app[AUDITOR]
    if audit is None:
        return
    fact = read_fact(principal, "conversation_timeline", f"{request.method} {request.path}", int(time.time() * 1000),
                     origin=origin, conversation_id=conversation_id, items=items)
    try:
        await audit(fact)
    except NotRecorded:
        raise _error(web.HTTPServiceUnavailable, "the read could not be audited: try again") from None
