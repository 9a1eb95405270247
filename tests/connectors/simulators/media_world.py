"""A world for the media tests: the simulators on a real port that the demo accounts point at, a
media store in a temporary directory, an HTTP session. Nothing here needs Kafka."""
from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer, unused_port

from connectors.media.store import DirectoryStore
from tests.simulators_fixture import ACCOUNTS

LIMIT = 16 * 1024 * 1024


@dataclass
class World:
    """The simulator, its control client, the accounts pointing at it, a store and a session."""

    sim: object
    client: TestClient
    accounts: object
    store: DirectoryStore
    session: aiohttp.ClientSession
    recorder: object

    def account(self, channel: str):
        return next(a for a in self.accounts if a.channel == channel)

    async def requests(self, channel: str) -> list[dict]:
        """What the platform's APIs received, oldest first (GET /_sim/<channel>/requests)."""
        return await (await self.client.get(f"/_sim/{channel}/requests")).json()

    async def customer_sends(self, channel: str, customer: str, kind: str) -> bytes:
        """A customer's message of `kind` through the control API; the webhook body the edge got."""
        answer = await self.client.post(f"/_sim/{channel}/customers/messages", json={"customer": customer, "kind": kind})
        assert answer.status == 200, await answer.text()
        body = self.recorder.posts(channel)[-1]["body"]
        json.loads(body)  # the platform's JSON, signed as sent
        return body


def moved_accounts(tmp_path, port: int):
    """The demo accounts (deploy/accounts.yaml) pointing at simulators on `port` instead of 8090."""
    from switchboard.accounts import load_accounts

    moved = tmp_path / "accounts.yaml"
    moved.write_text(ACCOUNTS.read_text().replace("127.0.0.1:8090", f"127.0.0.1:{port}"))
    return load_accounts(moved)


async def start_simulators(accounts, port: int, edge_url: str):
    """(Simulator, its started TestClient) on `port`, posting webhooks to `edge_url`."""
    from connectors.simulators.simulator import Simulator
    from connectors.simulators.state import Clock

    sim = Simulator(accounts, edge_url, seed=3, clock=Clock(base=lambda: 1_760_000_000.0),
                    receipt_delay=0.0, retry_delays=(0.01, 0.01, 0.01))
    client = TestClient(TestServer(sim.app(), host="127.0.0.1", port=port))
    await client.start_server()
    return sim, client


@pytest_asyncio.fixture
async def media_world(edge_recorder, tmp_path):
    """The demo accounts moved to a free port where the simulators listen."""
    port = unused_port()
    accounts = moved_accounts(tmp_path, port)
    sim, client = await start_simulators(accounts, port, edge_recorder.url)
    async with aiohttp.ClientSession() as session:
        yield World(sim, client, accounts, DirectoryStore(tmp_path / "media", LIMIT), session, edge_recorder)
    await client.close()
