"""A stand-in for the platforms' send APIs: records every call, answers from the outbound fixtures."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.connectors.helpers import FIXTURES



def success(channel: str, path: str) -> tuple[int, str | None]:
    """How a platform answers a send it accepts: its first text-send response fixture
    (`outbound/<channel>/*text.response.json`, none: `{}`), 201 Created from X's v2 DM endpoint."""
    found = sorted((FIXTURES / "outbound" / channel).glob("*text.response.json"))
    return (201 if "/2/dm_conversations/" in path else 200), (f"{channel}/{found[0].stem}" if found else None)


@dataclass
class FakePlatform:
    """Calls received per channel; `script[channel]` lists (status, fixture, headers) answers to give first."""

    url: str = ""
    calls: list[dict] = field(default_factory=list)
    script: dict[str, list[tuple[int, str | None, dict]]] = field(default_factory=dict)
    accepted_retry_keys: set[str] = field(default_factory=set)

    def of(self, channel: str) -> list[dict]:
        """The calls one channel's API received, in order."""
        return [c for c in self.calls if c["channel"] == channel]

    async def handle(self, request: web.Request) -> web.Response:
        channel = request.path.split("/")[1]
        raw = await request.read()
        self.calls.append({"channel": channel, "path": request.path, "headers": dict(request.headers),
                           "raw": raw, "json": json.loads(raw)})
        if self.script.get(channel):
            return _answer(*self.script[channel].pop(0))
        key = request.headers.get("X-Line-Retry-Key")
        if key and key in self.accepted_retry_keys:  # LINE: a repeated retry key is not sent again
            return _answer(409, "line/error_409.response", {"x-line-accepted-request-id": "req-1"})
        if key:
            self.accepted_retry_keys.add(key)
        return _answer(*success(channel, request.path), {})


def _answer(status: int, fixture: str | None, headers: dict) -> web.Response:
    body = (FIXTURES / "outbound" / f"{fixture}.json").read_bytes() if fixture else b"{}"
    return web.Response(status=status, body=body, headers=headers, content_type="application/json")


async def start_fake_platform() -> tuple[FakePlatform, TestServer]:
    """A running fake on a free port (its url is the accounts' API base)."""
    fake = FakePlatform()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    return fake, server
