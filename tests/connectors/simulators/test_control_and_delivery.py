"""The control API (faults, request log, clock, stats) and how webhooks reach the edge (handshakes, retries)."""
import asyncio
import json

import pytest

from connectors.simulators.scenario import CustomerScenario
from tests.connectors.simulators.helpers import MARIA, auth, customer_writes, outbound

pytestmark = pytest.mark.asyncio(loop_scope="session")
PUSH = "/line/v2/bot/message/push"


async def test_injected_faults_answer_the_next_calls_then_stop(simulator):
    sim, client = simulator
    added = await client.post("/_sim/line/faults", json={"kind": "rate_limit", "count": 2, "retry_after": 3})
    assert added.status == 200
    answers = [await client.post(PUSH, json=outbound("line/push_text.request"), headers=auth("line")) for _ in range(3)]
    assert [a.status for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert await answers[0].json() == outbound("line/error_429_rate_limit.response")
    assert (await client.post("/_sim/line/faults", json={"kind": "nonsense"})).status == 400


@pytest.mark.parametrize("platform,kind,path,fixture", [
    ("messenger", "rate_limit", "/messenger/v21.0/me/messages", "messenger/error_rate_limit.response"),
    ("whatsapp", "rate_limit", "/whatsapp/v21.0/109876543210987/messages", "whatsapp/error_130429.response"),
    ("x", "rate_limit", f"/x/2/dm_conversations/with/{MARIA['x']}/messages", "x/error_429.response")])
async def test_faults_are_shaped_like_the_platform(simulator, platform, kind, path, fixture):
    sim, client = simulator
    await client.post(f"/_sim/{platform}/faults", json={"kind": kind})
    answer = await (await client.post(path, json={}, headers=auth(platform))).json()
    expected = outbound(fixture)
    if "error" in expected:
        assert (answer["error"]["code"], set(answer["error"])) == (expected["error"]["code"], set(expected["error"]))
    else:
        assert answer == expected


async def test_requests_are_recorded_and_counted(simulator):
    sim, client = simulator
    await client.post(PUSH, json=outbound("line/push_text.request"), headers=auth("line"))
    log = await (await client.get("/_sim/line/requests")).json()
    assert log[-1]["body"] == outbound("line/push_text.request") and log[-1]["status"] == 200
    assert "authorization" not in log[-1]["headers"]
    stats = await (await client.get("/_sim/stats")).json()
    assert stats["sends"]["line"]["received"] == 1 and stats["sends"]["line"]["200"] == 1
    await client.delete("/_sim/line/requests")
    assert await (await client.get("/_sim/line/requests")).json() == []


async def test_a_webhook_the_edge_refuses_is_redelivered(simulator, edge_recorder):
    sim, client = simulator
    edge_recorder.fail_next = 2
    result = await customer_writes(client, "line", MARIA["line"])
    assert result["status"] == 200
    events = [json.loads(r["body"])["events"][0] for r in edge_recorder.posts("line")]
    assert [e["deliveryContext"]["isRedelivery"] for e in events] == [False, True, True]
    assert len({e["webhookEventId"] for e in events}) == 1
    edge_recorder.fail_next = 1
    await customer_writes(client, "messenger", MARIA["messenger"])
    bodies = [r["body"] for r in edge_recorder.posts("messenger")]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # Meta: identical bytes
    stats = await (await client.get("/_sim/stats")).json()
    assert stats["webhooks"]["line"]["retries"] == 2 and stats["webhooks"]["line"]["500"] == 2


async def test_customers_verify_every_url_before_writing(simulator, edge_recorder):
    sim, client = simulator
    stop = asyncio.Event()
    scenario = CustomerScenario(sim, rate=200, seed=4)
    task = asyncio.ensure_future(scenario.run(stop))
    for _ in range(100):
        await asyncio.sleep(0.02)
        if {r["channel"] for r in edge_recorder.posts()} >= {a.channel for a in sim.accounts}:
            break
    stop.set()
    await task
    await sim.idle()
    assert all(sim.state.stats.handshakes.values()) and len(sim.state.stats.handshakes) == 5
    gets = {r["channel"]: r["query"] for r in edge_recorder.requests if r["method"] == "GET"}
    assert gets["messenger"]["hub.verify_token"] == "demo-messenger-verify-token" and "crc_token" in gets["x"]
    line_verify = json.loads(edge_recorder.posts("line")[0]["body"])
    assert line_verify["events"] == []
    assert {r["channel"] for r in edge_recorder.posts()} == {a.channel for a in sim.accounts}
