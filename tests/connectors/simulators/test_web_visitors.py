"""Simulated web visitors against a stand-in guest API: what a browser sends, what it counts."""
from __future__ import annotations

import asyncio
import re
import uuid

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from channels.web import WebAccount
from connectors.simulators.customers import FIXTURE_PEOPLE, Content
from connectors.simulators.scenario import CustomerScenario
from connectors.simulators.simulator import Simulator
from connectors.simulators.state import Clock
from tests.connectors.simulators.guest_api_fake import ORIGIN, FakeGuestApi

pytestmark = pytest.mark.asyncio(loop_scope="session")
MARIA = FIXTURE_PEOPLE[0]
SITE = WebAccount(channel="web", account_id="acme-website", tenant_id="acme", allowed_origins=[ORIGIN])


async def until(predicate, timeout: float = 5.0):
    """Poll `predicate` on the running loop until it is truthy."""
    for _ in range(int(timeout / 0.01)):
        if found := predicate():
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@pytest_asyncio.fixture
async def world():
    """(fake guest API, simulator, the simulator's control client, the web visitors)."""
    api = FakeGuestApi()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server()
    sim = Simulator([SITE], str(server.make_url("")).rstrip("/"), seed=1, clock=Clock(base=lambda: 1_760_000_000.0))
    client = TestClient(TestServer(sim.app(), host="127.0.0.1"))
    await client.start_server()
    visitors = sim.platforms["web"]
    visitors.idle_seconds, visitors.prechat_probability = 60.0, 1.0
    yield api, sim, client, visitors
    await client.close()
    await server.close()


def visit(visitors, *texts: str, image: bool = False):
    """A visit of Maria's with these messages, as the scenario builds it."""
    events = [visitors.event(SITE, MARIA, Content("image" if image else "text", text), 0) for text in texts]
    return visitors.webhook(SITE, visitors.envelope(SITE, events))


async def test_a_visitor_opens_the_socket_with_the_sites_origin_fills_the_prechat_form_and_sends_an_image(world):
    api, sim, client, visitors = world
    answer = await client.post("/_sim/web/customers/messages", json={"customer": 0, "kind": "image", "seed": 1})
    assert answer.status == 200 and (await answer.json())["status"] == 200
    configure, upload, message = api.actions("configureSession")[0], api.actions("getUploadUrl")[0], api.actions("onMessage")[0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", configure["token"]) and configure["startNew"] is False
    assert configure["attributes"] == {"name": "Maria Lopez", "email": "maria@example.com"}
    assert upload["fileType"].startswith("image/") and upload["fileSize"] == len(api.uploads[0][1])
    assert api.uploads[0][0] == upload["fileType"]
    assert message["message"]["attachments"] == ["att-put-u0"] and message["token"] == configure["token"]

    await api.agent_says(configure["token"], "Thanks Maria, I see the receipt.")
    await until(lambda: api.actions("markRead"))
    log = await (await client.get("/_sim/web/requests")).json()
    assert [r["body"]["text"] for r in log] == ["Thanks Maria, I see the receipt."]
    stats = await (await client.get("/_sim/stats")).json()
    assert stats["sends"]["web"]["received"] == 1 and stats["receipts"]["web"] == 1
    assert stats["webhooks"]["web"]["sessions"] == 1 and stats["webhooks"]["web"]["uploads"] == 1


async def test_a_third_message_within_a_second_waits_out_the_rate_limit(world):
    api, sim, _client, visitors = world
    assert await visitors.deliver(visit(visitors, "Hi", "my card", "is blocked 💳")) == 200
    assert [f["message"]["text"] for f in api.actions("onMessage")] == ["Hi", "my card", "is blocked 💳", "is blocked 💳"]
    counts = sim.state.stats.webhooks["web"]
    assert (counts["accepted"], counts["rate_limited"]) == (3, 1)


async def test_a_returning_visitor_resumes_from_the_last_event_and_counts_each_agent_message_once(world):
    api, sim, _client, visitors = world
    await visitors.deliver(visit(visitors, "Hello?"))
    token = api.actions("configureSession")[0]["token"]
    await api.agent_says(token, "Hi! How can I help?", "m-1")
    await until(lambda: sim.state.stats.sends["web"]["received"] == 1)
    seen = api.sessions[token]["events"][0]["id"]
    visitors.idle_seconds, visitors.forget_probability = 0.0, 0.0
    visitors._close_later(visitors.visitors[(SITE.account_id, MARIA.id_on("web"))])
    await until(lambda: sim.state.stats.webhooks["web"]["closed"] == 1)
    await api.agent_says(token, "Are you still there?", "m-2")         # while the page is closed
    await api.agent_says(token, "Hi! How can I help?", "m-1")          # delivered again (at-least-once)
    visitors.idle_seconds = 60.0
    await visitors.deliver(visit(visitors, "Yes, sorry"))
    again = api.actions("configureSession")[1]
    assert (again["token"], again["since"]) == (token, seen)
    await until(lambda: sim.state.stats.sends["web"]["received"] == 2)
    assert [r["body"]["messageId"] for r in sim.state.requests["web"]] == ["m-1", "m-2"]
    assert sim.state.stats.webhooks["web"]["resumed"] == 1


async def test_a_visitor_who_ends_the_session_comes_back_as_a_new_one(world):
    api, sim, _client, visitors = world
    visitors.idle_seconds, visitors.forget_probability = 0.0, 1.0
    await visitors.deliver(visit(visitors, "Bye"))
    await until(lambda: sim.state.stats.webhooks["web"]["closed"] == 1)
    assert api.actions("closeSession") and not api.sessions
    await visitors.deliver(visit(visitors, "Me again"))
    first, second = api.actions("configureSession")
    assert second["token"] != first["token"] and "since" not in second and "attributes" in second


async def test_the_handshake_needs_a_known_deployment_and_an_allowed_origin(world):
    api, sim, _client, visitors = world
    assert await visitors.handshake(sim.client, SITE) is True
    assert await visitors.handshake(sim.client, SITE.model_copy(update={"allowed_origins": ["https://evil.example"]})) is False
    assert await visitors.handshake(sim.client, SITE.model_copy(update={"account_id": "nope"})) is False


async def test_the_scenario_sends_visits_to_web_deployments_like_webhooks_to_platforms(world):
    _api, sim, _client, _visitors = world
    scenario = CustomerScenario(sim, seed=2)
    hooks = [scenario.next_webhook()[1] for _ in range(20)]
    assert {h.channel for h in hooks} == {"web"}
    assert all(h.payload["deploymentId"] == "acme-website" and h.payload["messages"] for h in hooks)
    assert {m["visitor"] for h in hooks for m in h.payload["messages"]} <= {c.id_on("web") for c in sim.pool}


@pytest.mark.kafka
async def test_visitors_go_to_the_directorys_deployments_with_their_first_origin(kafka_bootstrap):
    from connectors.simulators.web import deployments
    from schemas import Codec
    from switchboard.directory import DirectoryWriter
    from switchboard.settings import load_settings

    run = uuid.uuid4().hex[:8]
    tenant, site = f"t{run}", f"site-{run}"
    writer = DirectoryWriter({"bootstrap.servers": kafka_bootstrap}, Codec())
    writer.put(tenant, "deployment", site, {"allowed_origins": ["https://shop.example", ORIGIN]}, "test")
    writer.close()
    found = {a.account_id: a for a in deployments(load_settings().model_copy(update={"kafka_bootstrap": kafka_bootstrap}))}
    assert (found[site].channel, found[site].tenant_id) == ("web", tenant)
    sim = Simulator([found[site]], "http://127.0.0.1:9", seed=1)
    assert sim.platforms["web"].origin(sim.account("web", site)) == "https://shop.example"
