"""The agent API against the real broker and ClickHouse: sign-in, the book, actions, 403s, history."""
from __future__ import annotations

import asyncio
import time

import pytest

from schemas import topic
from switchboard.ids import customer_id
from tests.connectors.helpers import read_back
from tests.sink.scenario import load, store_directly

from .conftest import CODEC, produce_events
from .events import upto

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]


async def eventually(predicate, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := await predicate()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def sign_in(client, tenant: str, username: str, password: str) -> dict:
    response = await client.post("/api/v1/auth/login", json={"tenant": tenant, "username": username,
                                                             "password": password})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def booked(client, headers, conversation_id: str, state: str):
    async def check():
        response = await client.get("/api/v1/conversations", headers=headers)
        found = {c["conversation_id"]: c["state"] for c in (await response.json())["conversations"]}
        return found.get(conversation_id) == state
    await eventually(check)


def actions_of(bootstrap: str, tenant: str, since_ms: int, subject: str, name: str) -> list[dict]:
    found = read_back(bootstrap, name, since_ms, lambda m: CODEC.decode(m.value(), subject)["tenant_id"] == tenant)
    return [CODEC.decode(m.value(), subject) | {"_key": m.key().decode()} for m in found]


async def test_sign_in_sets_the_cookie_and_wrong_passwords_are_refused(workspace_client, tenant_data):
    client, _ws = workspace_client
    tenant = tenant_data["tenant"]
    wrong = await client.post("/api/v1/auth/login", json={"tenant": tenant, "username": "ana", "password": "nope"})
    assert wrong.status == 401 and "error" in await wrong.json()
    assert (await client.get("/api/v1/me")).status == 401
    good = await client.post("/api/v1/auth/login", json={"tenant": tenant, "username": "ana", "password": "demo-ana"})
    body = await good.json()
    assert "password_hash" not in body["person"] and body["person"]["name"] == "Ana Silva"
    cookie = good.cookies["sb_token"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    me = await client.get("/api/v1/me")   # the cookie jar sends sb_token
    assert (await me.json())["queues"] == ["general", "cards"]


async def test_an_agent_sees_their_offer_accepts_it_and_answers(workspace_client, tenant_data, kafka_bootstrap):
    client, _ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    headers = await sign_in(client, tenant, "ana", "demo-ana")
    since = int(time.time() * 1000) - 1000
    produce_events(kafka_bootstrap, upto(events, "ae:ana:offered:o-1"))
    await booked(client, headers, "c-1", "offered")
    offers = (await (await client.get("/api/v1/offers", headers=headers)).json())["offers"]
    assert [o["offer_id"] for o in offers] == ["o-1"] and offers[0]["channel"] == "whatsapp"
    reply = {"content": [{"type": "text", "text": "Hello 👋"}], "client_id": "draft-1"}
    assert (await client.post("/api/v1/conversations/c-1/messages", json=reply, headers=headers)).status == 409
    assert (await client.post("/api/v1/offers/o-1/accept", headers=headers)).status == 202
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1")[-1:])
    await booked(client, headers, "c-1", "connected")
    sent = await client.post("/api/v1/conversations/c-1/messages", json=reply, headers=headers)
    assert sent.status == 202
    outbound_id = (await sent.json())["outbound_id"]
    again = await client.post("/api/v1/conversations/c-1/messages", json=reply, headers=headers)
    assert (await again.json())["outbound_id"] == outbound_id   # a retried POST names the same message
    accepted = actions_of(kafka_bootstrap, tenant, since, "agent-action", topic("agent-actions").name)
    assert [(a["type"], a["offer_id"], a["_key"]) for a in accepted] == [("accept", "o-1", tenant)]
    replies = actions_of(kafka_bootstrap, tenant, since, "outbound-message", topic("outbound-messages").name)
    assert {(r["outbound_id"], r["agent_id"], r["recipient_id"], r["_key"]) for r in replies} == {
        (outbound_id, "ana", "15551230001", f"{tenant}:whatsapp:wa-main:15551230001")}
    assert replies[0]["content"][0]["text"] == "Hello 👋"


async def test_conversations_not_yours_are_forbidden(workspace_client, tenant_data, kafka_bootstrap):
    client, _ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    ben = await sign_in(client, tenant, "ben", "demo-ben")
    for path in ("/api/v1/conversations/c-1", "/api/v1/conversations/c-1/history"):
        response = await client.get(path, headers=ben)
        assert response.status == 403 and "not offered or assigned to you" in (await response.json())["error"]
    assert (await client.post("/api/v1/conversations/c-1/end", headers=ben)).status == 403
    assert (await client.post("/api/v1/offers/o-1/accept", headers=ben)).status == 404
    assert (await client.get("/api/v1/supervisor/agents", headers=ben)).status == 403
    assert (await client.get("/api/v1/admin/people", headers=ben)).status == 403


async def test_another_tenants_conversation_is_forbidden_even_with_the_same_ids(workspace_client, tenant_data,
                                                                                directory, kafka_bootstrap):
    from .conftest import scenario

    client, ws = workspace_client
    other = f"{tenant_data['tenant']}-b"
    produce_events(kafka_bootstrap, upto(scenario(other)["events"], "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant_data["tenant"], "ana", "demo-ana")

    async def read_by_this_edge():   # the other tenant's "ana" holds c-1 in this edge's book
        return ws.book.entry(other, "ana", "c-1", ws.now()) is not None
    await eventually(read_by_this_edge)
    response = await client.get("/api/v1/conversations/c-1", headers=ana)
    assert response.status == 403
    sue = await sign_in(client, tenant_data["tenant"], "sue", "demo-sue")
    assert (await client.get("/api/v1/supervisor/conversations/c-1/timeline", headers=sue)).status == 404


async def test_wrapup_codes_come_from_the_queue_and_details_become_claims(workspace_client, tenant_data,
                                                                          kafka_bootstrap):
    client, _ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    since = int(time.time() * 1000) - 1000
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    details = await (await client.get("/api/v1/conversations/c-1", headers=ana)).json()
    assert details["wrapup_codes"] == ["card-blocked", "card-replaced"] and details["wrapup_mode"] == "mandatory"
    claimed = await client.post("/api/v1/conversations/c-1/customer", json={"email": " Ana.Cliente@Example.COM "},
                                headers=ana)
    assert claimed.status == 202
    bad = await client.post("/api/v1/conversations/c-1/customer", json={"phone": "12"}, headers=ana)
    assert bad.status == 400
    wrong = await client.post("/api/v1/conversations/c-1/wrapup", json={"code": "resolved"}, headers=ana)
    assert wrong.status == 400 and "card-blocked" in (await wrong.json())["error"]
    assert (await client.post("/api/v1/conversations/c-1/wrapup", json={"code": "card-blocked"},
                              headers=ana)).status == 202
    claims = actions_of(kafka_bootstrap, tenant, since, "identity-claim", topic("identity-claims").name)
    own = customer_id(tenant, "whatsapp", "15551230001")   # the channel identity's own customer, before merges
    assert [(c["detail_value"], c["source"], c["customer_id"], c["_key"]) for c in claims] == [
        ("ana.cliente@example.com", "agent_entered", own, f"{tenant}:email:ana.cliente@example.com")]
    wrapups = [a for a in actions_of(kafka_bootstrap, tenant, since, "agent-action", topic("agent-actions").name)
               if a["type"] == "wrap_up"]
    assert [(a["conversation_id"], a["wrapup_code"]) for a in wrapups] == [("c-1", "card-blocked")]


async def test_history_pages_the_customers_messages_across_channels(workspace_client, tenant_data, clickhouse_store,
                                                                    kafka_bootstrap):
    client, _ws = workspace_client
    tenant = tenant_data["tenant"]
    history = load("history_scenario.json", tenant)
    store_directly(clickhouse_store, history["events"])
    offer = {**tenant_data["events"][0], "customer_id": "cust-B", "conversation_id": "c-hist", "offer_id": "o-hist",
             "event_id": "ae:ana:offered:o-hist"}
    produce_events(kafka_bootstrap, [offer])
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-hist", "offered")
    pages, before = [], None
    while True:
        query = {"limit": "2", **({"before": before} if before else {})}
        page = await (await client.get("/api/v1/conversations/c-hist/history", params=query, headers=ana)).json()
        pages += [m["message_id"] for m in page["messages"]]
        if not (before := page["next"]):
            break
    assert pages == history["expected_history_of_A"]
    assert page["tenant"] == tenant and page["customers"] == ["cust-A", "cust-B"]
    # Who the customer is: each channel identity of the merged group and how it was matched (never cust-C's).
    who = page["customer"]
    assert who["customer_id"] == "cust-A" and who["customers"] == ["cust-A", "cust-B"]
    assert [(i["channel"], i["external_id"], i["matched_by"]) for i in who["identities"]] == [
        ("messenger", "6523409871234567", "new channel identity"),
        ("web", "sess-2b9c41", "volunteered email matches the customer known from messenger")]
    assert [(d["type"], d["value"], d["agent_entered"]) for d in who["details"]] == [
        ("email", "maria.lopez@example.com", False)]
    # Her names from the identity decisions and the messages of the whole group, each once; never Carlos's.
    assert who["names"] == history["expected_names_of_A"] and who["name"] == "María López"
    assert who["identities"][0]["display_name"] == "María López"


def _identity_fact(tenant: str, kind: str, customer: str, **fields) -> dict:
    return {"topic": "identity-events", "record": {
        "event_id": f"ie-{kind}-{customer}-{tenant}", "tenant_id": tenant, "type": kind, "customer_id": customer,
        "channel": "whatsapp", "detail_type": "email", "detail_value": "ana@example.com",
        "reason": f"{kind} in a test", "occurred_at": 1767261500000, **fields}}


async def test_the_connected_agent_answers_a_merge_suggestion_and_a_supervisor_splits_a_merge(
        workspace_client, tenant_data, clickhouse_store, kafka_bootstrap):
    client, _ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    thread = f"{tenant}:whatsapp:wa-main:15551230001"
    store_directly(clickhouse_store, [
        _identity_fact(tenant, "suggested", "cust-1", thread_key=thread, candidates=["cust-m"], origin="text"),
        _identity_fact(tenant, "merged", "cust-a", merged_customer_id="cust-b",
                       thread_key=f"{tenant}:messenger:fb-page:psid-2")])
    since = int(time.time() * 1000) - 1000
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    page = await (await client.get("/api/v1/conversations/c-1/history", headers=ana)).json()
    [suggestion] = page["customer"]["suggestions"]
    assert (suggestion["customer_id"], suggestion["candidates"], suggestion["detail_value"]) == \
        ("cust-1", ["cust-m"], "ana@example.com")
    answer = {"decision": "confirm", "customer_id": "cust-1", "detail_type": "email", "detail_value": "ana@example.com"}
    assert (await client.post("/api/v1/conversations/c-1/customer/suggestions", json=answer, headers=ana)).status == 202
    unknown = answer | {"detail_value": "other@example.com"}
    assert (await client.post("/api/v1/conversations/c-1/customer/suggestions", json=unknown, headers=ana)).status == 404
    assert (await client.post("/api/v1/conversations/c-1/customer/suggestions", json=answer | {"decision": "maybe"},
                              headers=ana)).status == 400
    assert (await client.post("/api/v1/customers/cust-a/split", json={"customer_id": "cust-b"}, headers=ana)).status == 403
    sue = await sign_in(client, tenant, "sue", "demo-sue")
    assert (await client.post("/api/v1/customers/cust-a/split", json={"customer_id": "cust-z"}, headers=sue)).status == 404
    assert (await client.post("/api/v1/customers/cust-b/split", json={"customer_id": "cust-a"}, headers=sue)).status == 202
    claims = actions_of(kafka_bootstrap, tenant, since, "identity-claim", topic("identity-claims").name)
    assert [(c["action"], c["customer_id"], c["other_customer_id"], c["actor"], c["_key"]) for c in claims] == [
        ("confirm", "cust-1", "cust-m", "ana", f"{tenant}:email:ana@example.com"),
        ("split", "cust-b", "cust-a", "sue", f"{tenant}:email:ana@example.com")]


async def test_a_supervisor_forces_an_end_and_reads_the_routing_explanation(workspace_client, tenant_data,
                                                                             kafka_bootstrap):
    client, _ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    since = int(time.time() * 1000) - 1000
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    sue = await sign_in(client, tenant, "sue", "demo-sue")
    agents = (await (await client.get("/api/v1/supervisor/agents", headers=sue)).json())["agents"]
    assert {a["id"]: a["load"] for a in agents} == {"ana": {"connected": 1}, "ben": {}}
    assert (await client.post("/api/v1/conversations/c-1/end", headers=sue)).status == 202
    ended = [a for a in actions_of(kafka_bootstrap, tenant, since, "agent-action", topic("agent-actions").name)
             if a["type"] == "end"]
    assert [(a["agent_id"], a["actor_id"], a["conversation_id"]) for a in ended] == [("ana", "sue", "c-1")]
    for path in ("timeline", "decisions"):
        response = await client.get(f"/api/v1/supervisor/conversations/c-1/{path}", headers=sue)
        assert response.status == 200, await response.text()
    queues = (await (await client.get("/api/v1/supervisor/queues", headers=sue)).json())["queues"]
    assert [q["id"] for q in queues] == ["cards", "general"]


async def test_an_admin_manages_people_of_their_tenant_only(workspace_client, tenant_data, directory):
    client, _ws = workspace_client
    tenant = tenant_data["tenant"]
    root = await sign_in(client, tenant, "root", "demo-root")
    new = {"name": "Cleo Ng", "role": "agent", "password": "demo-cleo", "queues": ["general"]}
    put = await client.put("/api/v1/admin/people/cleo", json=new, headers=root)
    assert put.status == 200 and "password" not in await put.json() and "password_hash" not in await put.json()
    view, _writer = directory
    await eventually(lambda: asyncio.sleep(0, view.person(tenant, "cleo")))
    await sign_in(client, tenant, "cleo", "demo-cleo")
    people = (await (await client.get("/api/v1/admin/people", headers=root)).json())["entries"]
    assert "cleo" in [p["id"] for p in people] and all("password_hash" not in p for p in people)
    bad = await client.put("/api/v1/admin/people/x", json={"name": "", "role": "boss"}, headers=root)
    assert bad.status == 400
    assert (await client.delete("/api/v1/admin/people/cleo", headers=root)).status == 200
    await eventually(lambda: asyncio.sleep(0, view.person(tenant, "cleo") is None))


async def test_signing_out_revokes_the_token_and_tells_routing(workspace_client, tenant_data, kafka_bootstrap):
    client, _ws = workspace_client
    tenant = tenant_data["tenant"]
    since = int(time.time() * 1000) - 1000
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    assert (await client.post("/api/v1/auth/logout", headers=ana)).status == 200

    async def refused():
        return (await client.get("/api/v1/me", headers=ana)).status == 401
    await eventually(refused)
    kinds = [a["type"] for a in actions_of(kafka_bootstrap, tenant, since, "agent-action", topic("agent-actions").name)]
    assert kinds == ["signed_out"]
