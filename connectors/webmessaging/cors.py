"""CORS for the widget's HTTP calls (history, uploads): only the deployment's own origins."""
from __future__ import annotations

import math

from aiohttp import web

from connectors.edge import COUNTERS
from connectors.floods import source_of

ALLOWED_HEADERS = "Authorization, Content-Type"


def headers_for(request: web.Request, deployment: dict | None, methods: str) -> dict[str, str]:
    """The CORS headers when the request's Origin is one of the deployment's, else none."""
    origin = request.headers.get("Origin")
    if deployment is None or origin not in deployment.get("allowed_origins", ()):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Allow-Methods": methods,
            "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": "600"}


def json_answer(request: web.Request, deployment: dict | None, methods: str, data: dict,
                status: int = 200) -> web.Response:
    """A JSON answer with the CORS headers the deployment allows (errors too: the widget reads them)."""
    return web.json_response(data, status=status, headers=headers_for(request, deployment, methods))


def flooded(request: web.Request, wm, deployment: dict | None, methods: str) -> web.Response | None:
    """429 with Retry-After once the caller's address spent its history and upload budget, else None."""
    wait = None if wm.floods is None else wm.floods.request_wait(source_of(request.remote))
    if wait is None:
        return None
    request.app[COUNTERS]["guest_request_flooded"] += 1
    answer = json_answer(request, deployment, methods, {"error": "too many requests from your network: "
                                                        f"wait {wait:.1f} s"}, 429)
    answer.headers["Retry-After"] = str(math.ceil(wait))
    return answer


def preflight(routes: web.RouteTableDef, path: str, methods: str) -> None:
    """Add the OPTIONS route of `path`: CORS headers for the deployment named by `?deploymentId`."""
    from .app import webmessaging_of

    async def answer(request: web.Request) -> web.Response:
        found = webmessaging_of(request).deployment(request.query.get("deploymentId"))
        return web.Response(status=204, headers=headers_for(request, found and found[1], methods))
    routes.route("OPTIONS", path)(answer)
