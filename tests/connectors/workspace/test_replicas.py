"""Two `switchboard edge` processes on one broker: a page's socket drops on replica A, reconnects to
replica B with `?since=` and gets every missed event exactly once, in order, then live events."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from schemas import topic
from tests.connectors.helpers import read_back
from tests.kafka_fixture import free_port

from .conftest import CODEC, SECRET, produce_events, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
REPO = Path(__file__).resolve().parents[3]


class Edge:
    """One `switchboard edge` child process with its log in a file."""

    def __init__(self, name: str, bootstrap: str, tmp_path: Path):
        self.port, self.log = free_port(), tmp_path / f"edge-{name}.log"
        env = {**os.environ, "SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_AUTH_SECRET": SECRET.decode(),
               "SWITCHBOARD_DATA_DIR": str(tmp_path / name), "SWITCHBOARD_SCHEMA_REGISTRY_URL": ""}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "switchboard.cli", "edge", "--host", "127.0.0.1",
                                          "--port", str(self.port), "--no-transactions"], cwd=REPO, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def listening(self) -> bool:
        """True once it serves (it listens only after its book read agent-notifications to the end)."""
        assert self.proc.poll() is None, f"the edge exited:\n{self.log.read_text()[-3000:]}"
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def replicas(kafka_bootstrap, tmp_path):
    edges = [Edge("a", kafka_bootstrap, tmp_path), Edge("b", kafka_bootstrap, tmp_path)]
    try:
        for edge in edges:
            wait_until(edge.listening, timeout=90, what=f"edge on port {edge.port}")
        yield edges
    finally:
        for edge in edges:
            edge.stop()


def ana_events(tenant_data: dict, n: int) -> list[dict]:
    """`n` agent-notifications of ana (the fixture's, then messages), with ben's interleaved."""
    base = tenant_data["events"][1]
    events = list(tenant_data["events"])
    events += [{**base, "event_id": f"ae:ana:message:{i}", "type": "message", "direction": "inbound",
                "message_id": f"in-{i}", "text": f"message {i}"} for i in range(n - len(events))]
    ben = [{**e, "agent_id": "ben", "event_id": e["event_id"].replace("ana", "ben")} for e in events]
    return [e for pair in zip(events, ben) for e in pair]


async def received(ws, n: int) -> list[dict]:
    return [await ws.receive_json(timeout=20) for _ in range(n)]


async def test_a_reconnect_to_the_other_replica_replays_every_missed_event_once(replicas, tenant_data,
                                                                                 kafka_bootstrap):
    a, b = replicas
    tenant, since_ms = tenant_data["tenant"], int(time.time() * 1000) - 1000
    events = ana_events(tenant_data, 12)                 # 12 of ana's, 12 of ben's
    ana = [e for e in events if e["agent_id"] == "ana"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = await http.post(a.url("/api/v1/auth/login"),
                                json={"tenant": tenant, "username": "ana", "password": "demo-ana"})
        assert login.status == 200, await login.text()
        async with http.ws_connect(a.url("/api/v1/ws")) as ws:           # the sb_token cookie
            produce_events(kafka_bootstrap, events[:6])                 # 3 of ana's
            first = await received(ws, 3)
        assert [e["event_id"] for e in first] == [e["event_id"] for e in ana[:3]]
        produce_events(kafka_bootstrap, events[6:20])                   # 7 more while no page is open
        async with http.ws_connect(b.url(f"/api/v1/ws?since={first[-1]['id']}")) as ws:
            replayed = await received(ws, 7)
            produce_events(kafka_bootstrap, events[20:])                # live on B
            live = await received(ws, 2)
            await ws.send_json({"type": "ping"})
            assert (await ws.receive_json(timeout=20)) == {"type": "pong"}
    got = [e["event_id"] for e in first + replayed + live]
    assert got == [e["event_id"] for e in ana]
    assert [int(e["id"].split("-")[1]) for e in replayed + live] == sorted(int(e["id"].split("-")[1])
                                                                            for e in replayed + live)
    assert [e["text"] for e in live] == ["message 1", "message 2"] and replayed[0]["tenant_id"] == tenant

    def pages():
        found = read_back(kafka_bootstrap, topic("agent-actions").name, since_ms,
                          lambda m: CODEC.decode(m.value(), "agent-action")["tenant_id"] == tenant)
        return [CODEC.decode(m.value(), "agent-action")["type"] for m in found]
    assert wait_until(lambda: len(pages()) == 4 and pages(), what="page actions") == [
        "page_open", "page_closed", "page_open", "page_closed"]
