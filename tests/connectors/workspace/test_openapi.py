"""The OpenAPI document is valid, and it and the edge's /api/v1 routes name the same operations."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from connectors.edge import make_app
from connectors.workspace import Workspace
from connectors.workspace.agent_routes import media_upload
from connectors.workspace.openapi import document
from schemas import Codec
from switchboard.accounts import Accounts
from switchboard.auth import Tokens

METHODS = {"get", "put", "post", "delete", "patch"}


class Media:
    """What `mount` reads of connectors.media.EdgeMedia for the upload route."""

    store = signer = None
    url_seconds, max_bytes = 300, 1024


def routes() -> set[tuple[str, str]]:
    workspace = Workspace(Tokens(b"x" * 32, 60), directory=type("D", (), {"revoked": staticmethod(bool)})(),
                          writer=None, clickhouse=lambda: None, publisher=None, codec=Codec(), client_config={})
    app = make_app(None, Accounts([]), None, Codec(), workspace=workspace)
    app.router.add_routes([media_upload(Media())])   # mounted when the edge has its media store
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/v1") and route.method.lower() in METHODS:
            found.add((route.method.lower(), re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)))
    return found


def documented() -> set[tuple[str, str]]:
    return {(method, path) for path, item in document()["paths"].items() for method in item if method in METHODS}


def test_the_document_is_valid_openapi():
    validate(document())


def test_every_route_is_documented_and_every_documented_route_exists():
    assert routes() - documented() == set(), "routes missing from connectors/workspace/openapi.yaml"
    assert documented() - routes() == set(), "documented operations the edge does not serve"


def test_every_operation_answers_errors_as_documented_json():
    for path, item in document()["paths"].items():
        for method, operation in ((m, o) for m, o in item.items() if m in METHODS):
            assert operation.get("summary"), f"{method} {path} has no summary"
            if operation.get("security") != []:
                assert "401" in operation["responses"], f"{method} {path} does not document 401"


async def test_every_operation_that_needs_a_token_answers_401_without_one():
    from aiohttp.test_utils import TestClient, TestServer

    workspace = Workspace(Tokens(b"x" * 32, 60), directory=type("D", (), {"revoked": staticmethod(bool)})(),
                          writer=None, clickhouse=lambda: None, publisher=None, codec=Codec(), client_config={})
    workspace.start = lambda loop: None          # no broker: only the middleware answers here
    app = make_app(None, Accounts([]), None, Codec(), workspace=workspace)
    async with TestClient(TestServer(app)) as client:
        for path, item in document()["paths"].items():
            for method, operation in ((m, o) for m, o in item.items() if m in METHODS):
                if operation.get("security") == []:
                    continue
                concrete = re.sub(r"\{\w+\}", "x", path)
                response = await client.request(method.upper(), concrete)
                assert response.status == 401, f"{method} {concrete} answered {response.status} without a token"
