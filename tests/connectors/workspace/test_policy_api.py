"""The policy view API, notifications and consents against the real broker (ClickHouse for 404s)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from schemas import topic

from .conftest import CODEC, produce_events
from .events import upto
from .test_api import actions_of, booked, eventually, sign_in

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]
VIEWS = Path(__file__).resolve().parents[2] / "fixtures" / "workspace" / "policy_views.json"


def produce_views(bootstrap: str, tenant: str, other: str, now: int) -> None:
    """The fixture's policy-views records, as the two policy stages write them."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for view in json.loads(VIEWS.read_text())["views"]:
        text = json.dumps(view).replace("OTHER", other).replace("TENANT", tenant)
        view = json.loads(text.replace('"NOW+11520000"', str(now + 11_520_000)))
        producer.produce(topic("policy-views").name, key=view["key"].encode(),
                         value=CODEC.encode("policy-view", view["value"]))
    assert producer.flush(15) == 0


async def test_the_policy_view_of_a_conversation_the_caller_may_see(workspace_client, tenant_data, kafka_bootstrap):
    client, ws = workspace_client
    tenant, other = tenant_data["tenant"], f"{tenant_data['tenant']}-b"
    produce_events(kafka_bootstrap, upto(tenant_data["events"], "ae:ana:assigned:o-1"))
    produce_views(kafka_bootstrap, tenant, other, ws.now())
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    await eventually(_viewed(ws, tenant, "c-1", "account:"))
    response = await client.get("/api/v1/conversations/c-1/policy", headers=ana)
    assert response.status == 200, await response.text()
    view = await response.json()
    assert view["window"]["open"] and 3 * 3600 + 11 * 60 <= view["window"]["seconds_left"] <= 3 * 3600 + 12 * 60
    assert view["template_only"] is False and view["opted_in"] is True
    assert view["templates"] == [{"name": "order_update", "language": "en_US", "category": "utility",
                                  "parameters": ["text", "date_time"]}]
    assert view["unusable_templates"][0]["status"] == "PAUSED"
    assert view["tier"] == {"name": "TIER_250", "limit": 250, "used": 212, "headroom": 38, "held": 3,
                            "quality_rating": "GREEN"}
    assert view["reply_token"] is None and view["quota"] is None
    ben = await sign_in(client, tenant, "ben", "demo-ben")
    assert (await client.get("/api/v1/conversations/c-1/policy", headers=ben)).status == 403
    sue = await sign_in(client, tenant, "sue", "demo-sue")
    assert (await (await client.get("/api/v1/conversations/c-1/policy", headers=sue)).json())["tier"]["headroom"] == 38
    await eventually(_viewed(ws, other, "c-9"))
    assert (await client.get("/api/v1/conversations/c-9/policy", headers=sue)).status == 404   # another tenant's


def _viewed(ws, tenant: str, conversation_id: str, account: str | None = None):
    async def check():
        thread = ws.policies.thread(tenant, conversation_id)
        return thread is not None and (account is None or ws.policies.account(tenant, thread["portfolio_key"]))
    return check


async def test_a_notification_is_a_template_from_the_tenants_system_sender(workspace_client, tenant_data, directory,
                                                                          kafka_bootstrap):
    client, ws = workspace_client
    tenant, (view, writer) = tenant_data["tenant"], directory
    writer.put(tenant, "tenant", tenant, {"name": "T", "system_senders": ["notifier", "billing-bot"]}, "test")
    await eventually(_async(lambda: (view.tenant(tenant) or {}).get("system_senders")))
    since = int(time.time() * 1000) - 1000
    ana, sue = await sign_in(client, tenant, "ana", "demo-ana"), await sign_in(client, tenant, "sue", "demo-sue")
    body = {"channel": "whatsapp", "channel_account_id": "wa-main", "recipient_id": "15551230001",
            "template": {"name": "order_update", "language": "en_US", "parameters": ["A-1001", "2026-12-03"]},
            "outbound_id": "order-A-1001"}
    assert (await client.post("/api/v1/notifications", json=body, headers=ana)).status == 403
    first = await client.post("/api/v1/notifications", json=body, headers=sue)
    assert first.status == 202, await first.text()
    sent = await first.json()
    again = await (await client.post("/api/v1/notifications", json=body, headers=sue)).json()
    assert again["outbound_id"] == sent["outbound_id"] and sent["sender"] == "notifier"
    wrong = await client.post("/api/v1/notifications", json=body | {"sender": "ana"}, headers=sue)
    assert wrong.status == 400 and "not a system sender" in (await wrong.json())["error"]
    bad = await client.post("/api/v1/notifications", json=body | {"template": {"name": "x"}}, headers=sue)
    assert bad.status == 400
    records = actions_of(kafka_bootstrap, tenant, since, "outbound-message", topic("outbound-messages").name)
    thread_key = f"{tenant}:whatsapp:wa-main:15551230001"
    assert {(r["outbound_id"], r["kind"], r["agent_id"], r["_key"]) for r in records} == {
        (sent["outbound_id"], "template", "notifier", thread_key)}
    assert records[0]["template"]["parameters"] == ["A-1001", "2026-12-03"] and records[0]["conversation_id"] is None
    ws.accounts = type("NoAccounts", (), {"get": staticmethod(lambda channel, account_id: None)})()
    assert (await client.post("/api/v1/notifications", json=body, headers=sue)).status == 404


async def test_a_consent_is_recorded_for_the_customers_thread(workspace_client, tenant_data, kafka_bootstrap):
    client, _ws = workspace_client
    tenant = tenant_data["tenant"]
    since = int(time.time() * 1000) - 1000
    sue = await sign_in(client, tenant, "sue", "demo-sue")
    body = {"channel": "whatsapp", "channel_account_id": "wa-main", "recipient_id": "15551230001",
            "action": "opt_in", "source": "web_form", "consent_id": "form-77"}
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    assert (await client.post("/api/v1/consents", json=body, headers=ana)).status == 403
    assert (await client.post("/api/v1/consents", json=body | {"action": "maybe"}, headers=sue)).status == 400
    response = await client.post("/api/v1/consents", json=body, headers=sue)
    assert response.status == 202, await response.text()
    consent_id = (await response.json())["consent_id"]
    found = actions_of(kafka_bootstrap, tenant, since, "consent", topic("consents").name)
    assert [(c["consent_id"], c["action"], c["source"], c["recorded_by"], c["_key"]) for c in found] == [
        (consent_id, "opt_in", "web_form", "sue", f"{tenant}:whatsapp:wa-main:15551230001")]


def _async(fn):
    async def check():
        return fn()
    return check
