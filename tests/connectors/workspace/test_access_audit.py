"""Every read of a customer's conversation by a person is an access-audit fact (who, what, when),
recorded before the answer leaves: against the real broker, then into access_audit_facts."""
from __future__ import annotations

import time

import pytest

from connectors.publisher import PublishError
from schemas import topic
from sink.rows import rows_of

from .conftest import produce_events
from .events import upto
from .test_api import actions_of, booked, sign_in

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]
AUDIT = topic("access-audit").name
READS = [("ana", "/api/v1/conversations/c-1", "conversation_details"),
         ("ana", "/api/v1/conversations/c-1/messages", "conversation_messages"),
         ("ana", "/api/v1/conversations/c-1/history", "customer_history"),
         ("sue", "/api/v1/conversations/c-1/history", "customer_history"),
         ("sue", "/api/v1/supervisor/conversations/c-1/timeline", "conversation_timeline"),
         ("sue", "/api/v1/supervisor/conversations/c-1/decisions", "routing_decisions")]


async def test_each_read_of_a_conversation_is_an_audit_fact_of_who_what_and_when(
        workspace_client, tenant_data, kafka_bootstrap, clickhouse_store):
    client, ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    since = int(time.time() * 1000) - 1000
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    people = {name: await sign_in(client, tenant, name, f"demo-{name}") for name in ("ana", "ben", "sue")}
    await booked(client, people["ana"], "c-1", "connected")
    before = ws.now()
    for who, path, _read in READS:
        response = await client.get(path, headers=people[who])
        assert response.status == 200, (path, await response.text())
    # refused reads read nothing: no fact (ben is not on c-1; the offers list is no conversation's)
    assert (await client.get("/api/v1/conversations/c-1/history", headers=people["ben"])).status == 403
    assert (await client.get("/api/v1/offers", headers=people["ana"])).status == 200
    facts = actions_of(kafka_bootstrap, tenant, since, "access-audit", AUDIT)
    customer = (await (await client.get("/api/v1/conversations", headers=people["ana"])).json())[
        "conversations"][0]["customer_id"]
    assert [(f["actor_id"], f["path"].split(" ", 1)[1], f["read"]) for f in facts] == READS
    assert {(f["_key"], f["tenant_id"], f["conversation_id"], f["customer_id"], f["origin"]) for f in facts} == {
        (tenant, tenant, "c-1", customer, "edge")}
    assert [f["actor_role"] for f in facts] == ["agent"] * 3 + ["supervisor"] * 3
    assert all(f["session_id"] and before <= f["occurred_at"].timestamp() * 1000 <= ws.now() for f in facts)
    assert len({f["audit_id"] for f in facts}) == len(READS)

    for fact in facts:   # what the sink writes of them
        for table, row in rows_of("access-audit", {k: v for k, v in fact.items() if k != "_key"}):
            clickhouse_store.insert(table, [row])
    rows = clickhouse_store.query("SELECT actor_id, read FROM access_audit_facts FINAL WHERE tenant_id = {t:String} "
                                  "ORDER BY occurred_at, path", {"t": tenant}).result_rows
    assert sorted(map(tuple, rows)) == sorted((who, read) for who, _p, read in READS)


async def test_a_read_the_broker_did_not_record_is_not_answered(workspace_client, tenant_data, kafka_bootstrap):
    client, ws = workspace_client
    tenant, events = tenant_data["tenant"], tenant_data["events"]
    produce_events(kafka_bootstrap, upto(events, "ae:ana:assigned:o-1"))
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-1", "connected")
    publish = ws.publisher.publish

    async def refusing(records):
        if any(r.topic == AUDIT for r in records):
            raise PublishError("the broker did not acknowledge")
        await publish(records)
    ws.publisher.publish = refusing
    try:
        response = await client.get("/api/v1/conversations/c-1/history", headers=ana)
    finally:
        ws.publisher.publish = publish
    assert response.status == 503 and "messages" not in await response.json()
