"""The OpenAPI document of the agent API, served at `/api/v1/openapi.json` (public)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from aiohttp import web

DOCUMENT = Path(__file__).resolve().parent / "openapi.yaml"
ROUTES = web.RouteTableDef()


@cache
def document() -> dict:
    """The document as data."""
    return yaml.safe_load(DOCUMENT.read_text())


@ROUTES.get("/api/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document."""
    return web.json_response(document())
