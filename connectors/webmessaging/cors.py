"""CORS for the widget's HTTP calls (history, uploads): only the deployment's own origins."""
from __future__ import annotations

from aiohttp import web

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
