"""The outside-target guard on the sessions beyond sends: inbound media fetches and platform syncs
refuse a real platform's host before connecting unless outside targets are allowed (issue 16);
LINE's account defaults to its real API, whose content is served by its data host."""
from __future__ import annotations

import socket

import aiohttp
import aiohttp.abc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.line import LineConnector
from connectors.media import DirectoryStore, EdgeMedia, MediaRefused, Signer
from connectors.media.safe_get import allowed_hosts
from connectors.platform_sync import sync_platforms
from connectors.sending import ALLOW_OUTSIDE
from schemas import Codec
from switchboard.accounts import load_accounts
from tests.connectors.helpers import FIXTURES, webhook

aio = pytest.mark.asyncio(loop_scope="session")
LINE_ID, WHATSAPP_ID = "U4af4980629a1b2c3d4e5f60718293a4b", "109876543210987"
LIMIT = 1_000_000


@pytest.fixture
def production(tmp_path):
    """The connector tests' accounts as a production file: no api_base_url written, so each takes its default."""
    text = (FIXTURES / "connectors" / "accounts.yaml").read_text()
    path = tmp_path / "production.yaml"
    path.write_text("\n".join(line for line in text.splitlines() if "api_base_url" not in line)
                    .replace("TENANT", "acme").replace("http://API", "https://sms.acme.example"))
    return load_accounts(path)


def test_a_line_account_defaults_to_the_messaging_api_and_may_fetch_content_from_its_data_host(production):
    line = production.get("line", LINE_ID)
    assert line.api_base_url == "https://api.line.me"
    assert allowed_hosts(line) == ("api.line.me", "api-data.line.me")


class NoResolving(aiohttp.abc.AbstractResolver):
    """A resolver that records every host asked for: a refusal before connecting asks for none."""

    def __init__(self):
        self.asked = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        raise OSError(f"no network in this test ({host})")

    async def close(self):
        pass


@aio
async def test_an_inbound_line_image_is_not_fetched_from_the_real_api_unless_outside_targets_are_allowed(production, tmp_path):
    [message] = LineConnector().parse(production.get("line", LINE_ID), webhook("line", "image"), 1_741_944_594_000).messages
    [image] = message["content"]
    media = EdgeMedia(DirectoryStore(tmp_path / "media", LIMIT), Signer(b"edge-secret"), production, LIMIT, 300,
                      allow_outside=False)
    app = web.Application()
    media.mount(app)   # the edge's own fetch session opens with the app
    async with TestServer(app, host="127.0.0.1"):
        with pytest.raises(MediaRefused) as refused:
            await media.fetcher.media_for("line", LINE_ID, image)
    assert refused.value.rule == "media.outside_target"   # the guard's refusal: not "media.fetch" (a connect error)
    assert "api-data.line.me" in refused.value.reason and f"{ALLOW_OUTSIDE}=true" in refused.value.reason


class Recorder:
    """Stands in for the Publisher: what would have been published."""

    def __init__(self):
        self.units = []

    async def publish(self, records) -> None:
        self.units.append(list(records))


@aio
async def test_a_platform_sync_to_the_real_apis_fails_at_once_naming_the_setting_without_connecting(production):
    resolver, recorder = NoResolving(), Recorder()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session:   # deliver's: no guard of its own
        results = await sync_platforms(production, session, recorder, Codec(), allow_outside=False)
    assert {r.account.account_id: r.error is not None for r in results} == {WHATSAPP_ID: True, LINE_ID: True}
    assert all(f"{ALLOW_OUTSIDE}=true" in r.error for r in results), [r.error for r in results]
    assert resolver.asked == [] and recorder.units == []
