"""Real platform APIs are the accounts' defaults, yet nothing leaves this machine unless
SWITCHBOARD_ALLOW_OUTSIDE_TARGETS says so; beyond loopback only https (issue 16)."""
from __future__ import annotations

import json
import socket

import aiohttp
import aiohttp.abc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.base import PlatformRequest, SendResult
from connectors.registry import connector
from connectors.sending import (ALLOW_OUTSIDE, INTERNAL, OutsideTarget, RetryPolicy, guard, refusal,
                                send, startup_line)
from switchboard.accounts import load_accounts
from switchboard.settings import load_settings
from tests.connectors.helpers import FIXTURES

aio = pytest.mark.asyncio(loop_scope="session")
OUTBOUND = FIXTURES / "outbound"


def real_accounts(tmp_path):
    """The apps' accounts file as a production file: no api_base_url written, so each takes its default."""
    text = (FIXTURES / "apps" / "accounts.yaml").read_text()
    path = tmp_path / "production.yaml"
    path.write_text("\n".join(line for line in text.splitlines() if "api_base_url" not in line).replace("TENANT", "acme"))
    return {(a.channel, a.account_id): a for a in load_accounts(path)}


def test_each_account_defaults_to_its_platforms_real_api(tmp_path):
    accounts = real_accounts(tmp_path)
    assert accounts["messenger", "104729385610293"].api_base_url == "https://graph.facebook.com/v21.0"
    assert accounts["whatsapp", "109876543210987"].api_base_url == "https://graph.facebook.com/v21.0"
    assert accounts["x", "1466859271035789312"].api_base_url == "https://api.x.com"


@pytest.mark.parametrize("url,allowed,code", [
    ("https://graph.facebook.com/v21.0/me/messages", False, "outside_target"),
    ("https://api.x.com/2/dm_conversations/with/1/messages", False, "outside_target"),
    ("https://graph.facebook.com/v21.0/me/messages", True, None),
    ("http://sms-gateway.example.net/messages", True, "insecure_target"),   # Open Messaging over plain http
    ("http://127.0.0.1:8090/open/acme-sms-gateway/messages", False, None),   # the simulators
    ("http://[::1]:8090/x/2/media/upload", False, None),
    ("http://localhost:8090/line/v2/bot/message/push", False, None),
    ("http://127.0.0.1.nip.io/messages", False, "outside_target"),         # a name is never resolved
    ("None/me/messages", True, "bad_target"),
])
def test_the_guard_lets_loopback_through_and_the_rest_only_when_allowed_over_https(url, allowed, code):
    refused = refusal(url, allowed)
    assert (refused and refused.error_code) == code
    if refused is not None:
        assert not refused.ok and not refused.retriable
    if code == "outside_target":
        assert f"{ALLOW_OUTSIDE}=true" in refused.reason


@aio
@pytest.mark.parametrize("channel,account_id", [("messenger", "104729385610293"), ("whatsapp", "109876543210987"),
                                                ("x", "1466859271035789312")])
async def test_a_send_to_a_real_platform_fails_clearly_without_connecting(tmp_path, channel, account_id):
    account = real_accounts(tmp_path)[channel, account_id]
    outbound = json.loads((OUTBOUND / channel / "text.message.json").read_text())
    outbound = {**outbound, "channel_account_id": account_id}
    [request] = connector(channel).requests_for(account, outbound)
    async with aiohttp.ClientSession() as session:   # a call would fail as "connect"/"no_answer": none is made
        result, calls = await send(session, connector(channel), request, RetryPolicy(attempts=1), allow_outside=False)
    assert (result.ok, result.error_code, calls) == (False, "outside_target", 0)
    assert "unknown" not in result.reason and ALLOW_OUTSIDE in result.reason


@aio
async def test_a_session_with_the_guard_refuses_outside_hosts_and_reaches_loopback():
    async def local(_request):
        return web.Response(text="local")
    app = web.Application()
    app.router.add_get("/ok", local)
    async with TestServer(app, host="127.0.0.1") as server:
        async with aiohttp.ClientSession(middlewares=(guard(False),)) as session:
            async with session.get(server.make_url("/ok")) as answer:
                assert await answer.text() == "local"
            with pytest.raises(OutsideTarget, match=ALLOW_OUTSIDE):
                await session.get("https://graph.facebook.com/v21.0/102290129340398/message_templates")


@aio
async def test_web_deliveries_to_our_own_edge_are_an_internal_hop_not_an_outside_target():
    """deliver hands web messages to the edge (compose: http://edge:8080); the guard leaves that hop
    alone and refuses the same URL to any platform connector."""
    seen = []

    async def deliveries(request):
        seen.append(request.path)
        return web.json_response({"ok": True})
    app = web.Application()
    app.router.add_post("/webmessaging/v1/deliveries", deliveries)
    async with TestServer(app, host="127.0.0.1") as server:
        request = PlatformRequest("POST", f"http://edge:{server.port}/webmessaging/v1/deliveries", {}, json={})
        # `edge` is another container's name: here a resolver points it at the test server.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=ContainerNames())) as session:
            refused, calls = await send(session, Answers("open"), request, RetryPolicy(attempts=1), allow_outside=False)
            result, _ = await send(session, Answers("web"), request, RetryPolicy(attempts=1), allow_outside=False)
    assert (refused.error_code, calls) == ("outside_target", 0)
    assert result.ok and seen == ["/webmessaging/v1/deliveries"] and INTERNAL == {"web"}


class ContainerNames(aiohttp.abc.AbstractResolver):
    """Resolves the host name `edge` to 127.0.0.1, as a container network's DNS would to the edge."""

    async def resolve(self, host, port=0, family=socket.AF_INET):
        assert host == "edge"
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass


class Answers:
    """A connector that takes any 2xx as success (the guard is what is under test)."""

    def __init__(self, channel: str):
        self.channel = channel

    def result_of(self, request, status, headers, body):
        return SendResult(ok=200 <= status < 300)


@pytest.mark.parametrize("value,allowed", [(None, False), ("true", True), ("1", True), ("false", False)])
def test_the_setting_is_off_unless_set_and_the_startup_line_names_it(monkeypatch, value, allowed):
    if value is None:
        monkeypatch.delenv(ALLOW_OUTSIDE, raising=False)
    else:
        monkeypatch.setenv(ALLOW_OUTSIDE, value)
    assert load_settings().allow_outside_targets is allowed
    line = startup_line(allowed)
    assert ALLOW_OUTSIDE in line and "\n" not in line and ("allowed" if allowed else "refused") in line
