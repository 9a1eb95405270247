"""The report API's customer history is an access-audit fact the broker acknowledged before it is
answered (sink/audit.py): who read whose history, through which path, how many messages."""
from __future__ import annotations

import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from schemas import Codec, topic
from sink.audit import Auditor, NotRecorded
from sink.main import build_app
from tests.clickhouse_fixture import REPORT_TOKENS, report_token
from tests.connectors.helpers import read_back

pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]


async def _history(store, audit, headers: dict, customer: str = "cust-A"):
    client = TestClient(TestServer(build_app(store, None, REPORT_TOKENS, lambda _sid: False, audit=audit)))
    await client.start_server()
    try:
        response = await client.get(f"/api/v1/customers/{customer}/history", headers=headers)
        return response.status, await response.json()
    finally:
        await client.close()


async def test_a_history_read_is_audited_with_who_what_and_when(clickhouse_store, tenant):
    facts = []

    async def audit(fact):
        facts.append(fact)
    before = int(time.time() * 1000)
    status, page = await _history(clickhouse_store, audit, report_token(tenant))
    assert status == 200 and page["messages"] == []
    [fact] = facts
    assert {k: fact[k] for k in ("tenant_id", "actor_id", "actor_role", "read", "customer_id", "conversation_id",
                                 "items", "path", "origin")} == {
        "tenant_id": tenant, "actor_id": "sup", "actor_role": "supervisor", "read": "customer_history",
        "customer_id": "cust-A", "conversation_id": None, "items": 0,
        "path": "GET /api/v1/customers/cust-A/history", "origin": "sink"}
    assert fact["session_id"].startswith("s-") and before <= fact["occurred_at"] <= time.time() * 1000
    Codec().encode("access-audit", fact)   # the contract's shape
    status, _ = await _history(clickhouse_store, audit, report_token(tenant, "agent"))
    assert status == 403 and len(facts) == 1   # refused: nothing was read


async def test_a_history_read_the_broker_did_not_record_is_answered_503(clickhouse_store, tenant):
    async def refusing(_fact):
        raise NotRecorded("no acknowledgement in time")
    status, body = await _history(clickhouse_store, refusing, report_token(tenant))
    assert status == 503 and "messages" not in body


@pytest.mark.kafka
async def test_the_auditor_writes_the_fact_keyed_by_tenant(kafka_bootstrap, clickhouse_store, tenant):
    since = int(time.time() * 1000) - 1000
    auditor = Auditor({"bootstrap.servers": kafka_bootstrap}, Codec())
    try:
        assert (await _history(clickhouse_store, auditor, report_token(tenant)))[0] == 200
    finally:
        auditor.close()
    codec = Codec()
    [found] = read_back(kafka_bootstrap, topic("access-audit").name, since,
                        lambda m: codec.decode(m.value(), "access-audit")["tenant_id"] == tenant)
    assert found.key().decode() == tenant and codec.decode(found.value(), "access-audit")["origin"] == "sink"
