"""Pytest plugin: the platform simulators on a free port, and a recording stand-in for the edge.

`edge_recorder` answers like a correct edge (hub.* challenge, X CRC, 200 for POSTs) and records
every request; `simulator` serves the simulators for deploy/accounts.yaml with a controlled clock
and no delays, posting their webhooks to the recorder. Nothing here needs Kafka.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

REPO = Path(__file__).resolve().parents[1]
ACCOUNTS = REPO / "deploy" / "accounts.yaml"
FIXTURES = REPO / "tests" / "fixtures"


@dataclass
class EdgeRecorder:
    """What the fake edge received, and how many of the next POSTs it should fail."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    fail_next: int = 0
    x_secret: str = "demo-x-consumer-secret"

    def posts(self, channel: str | None = None) -> list[dict]:
        """Recorded POSTs (optionally of one channel)."""
        return [r for r in self.requests if r["method"] == "POST" and (channel is None or r["channel"] == channel)]


def _recorder_app(rec: EdgeRecorder) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        rec.requests.append({"method": request.method, "channel": request.match_info["channel"],
                             "account": request.match_info["account"], "query": dict(request.query),
                             "headers": dict(request.headers), "body": body})
        if "hub.challenge" in request.query:
            return web.Response(text=request.query["hub.challenge"])
        if "crc_token" in request.query:  # an independent CRC answer (HMAC-SHA256, base64)
            mac = hmac.new(rec.x_secret.encode(), request.query["crc_token"].encode(), hashlib.sha256).digest()
            return web.json_response({"response_token": "sha256=" + base64.b64encode(mac).decode()})
        if request.method == "POST" and rec.fail_next > 0:
            rec.fail_next -= 1
            return web.Response(status=500)
        return web.Response(text="ok")

    app = web.Application()
    app.add_routes([web.route("*", "/webhooks/{channel}/{account}", handle)])
    return app


@pytest_asyncio.fixture
async def edge_recorder():
    """A running fake edge that records every webhook."""
    rec = EdgeRecorder()
    server = TestServer(_recorder_app(rec), host="127.0.0.1")
    await server.start_server()
    rec.url = str(server.make_url("")).rstrip("/")
    yield rec
    await server.close()


@pytest_asyncio.fixture
async def simulator(edge_recorder):
    """(Simulator, TestClient) for deploy/accounts.yaml, clock at a fixed instant, no receipt delay."""
    from connectors.simulators.simulator import Simulator
    from connectors.simulators.state import Clock
    from switchboard.accounts import load_accounts

    sim = Simulator(load_accounts(ACCOUNTS), edge_recorder.url, seed=1, clock=Clock(base=lambda: 1_760_000_000.0),
                    receipt_delay=0.0, retry_delays=(0.01, 0.01, 0.01))
    client = TestClient(TestServer(sim.app(), host="127.0.0.1"))
    await client.start_server()
    yield sim, client
    await client.close()


def load_fixture(relative: str):
    """A fixture file's JSON value (tests/fixtures/<relative>)."""
    return json.loads((FIXTURES / relative).read_bytes())
