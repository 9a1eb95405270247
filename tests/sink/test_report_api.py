"""The report API's views over HTTP (sink/report_routes.py, mounted by sink/api.py): a supervisor's
token, the token's tenant only, JSON or CSV, a bad parameter answered 400 naming its fix, and a
conversation's timeline audited before it is answered."""
from __future__ import annotations

import csv
import io
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from sink.main import build_app
from tests.clickhouse_fixture import REPORT_TOKENS, report_token

from .views_scenario import RANGE, load_floor

pytestmark = [pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]
WEEK = "&".join(f"{k}={v[0]}" for k, v in RANGE.items())


@pytest.fixture(scope="module")
def floors(clickhouse_store) -> tuple[str, str]:
    """The floor under two tenants: mine and another's."""
    mine, other = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    load_floor(clickhouse_store, mine)
    load_floor(clickhouse_store, other)
    return mine, other


async def get(store, path: str, headers: dict | None, audit=None):
    client = TestClient(TestServer(build_app(store, None, REPORT_TOKENS, lambda _sid: False, audit=audit)))
    await client.start_server()
    try:
        response = await client.get(path, headers=headers or {})
        body = await response.text()
        return response.status, response.content_type, body
    finally:
        await client.close()


async def test_a_token_is_required_and_an_agent_is_refused(clickhouse_store, floors):
    for path in ("/api/v1/reports", f"/api/v1/reports/interactions?{WEEK}", "/api/v1/reports/interaction/q3"):
        assert (await get(clickhouse_store, path, None))[0] == 401, path
        assert (await get(clickhouse_store, path, report_token(floors[0], "agent")))[0] == 403, path
    status, _, body = await get(clickhouse_store, "/api/v1/summary", report_token(floors[0], "supervisor"))
    assert status == 403 and "admin" in body   # the summary: admins only, of their own tenant


async def test_the_list_names_every_view_with_its_parameters_and_columns(clickhouse_store, floors):
    import json

    status, _, body = await get(clickhouse_store, "/api/v1/reports", report_token(floors[0]))
    listed = {v["name"]: v for v in json.loads(body)["views"]}
    assert status == 200 and len(listed) == 8 and "my_queues_activity" in listed
    assert "granularity" in listed["queue_performance"]["parameters"]
    assert listed["interaction"]["columns"][0] == {"name": "at", "type": "DateTime64(3, 'UTC')"}


async def test_only_the_tokens_tenant_is_read(clickhouse_store, floors):
    import json

    mine, other = floors
    status, _, body = await get(clickhouse_store, f"/api/v1/reports/interactions?{WEEK}", report_token(mine))
    rows = json.loads(body)["rows"]
    assert status == 200 and sorted(r[0] for r in rows) == ["q1", "q2", "q3", "q4", "q5"]
    # The other tenant has the same conversation ids: a row of theirs would double them.
    status, _, body = await get(clickhouse_store, "/api/v1/reports/interaction/q3?format=json", report_token(mine))
    assert status == 200 and len(json.loads(body)["rows"]) == 5   # 3 segments, 2 messages, no decision
    status, _, body = await get(clickhouse_store, f"/api/v1/reports/interactions?{WEEK}&tenant={other}",
                                report_token(mine))
    assert status == 403 and "own tenant" in body


async def test_csv_is_a_header_and_a_line_per_row(clickhouse_store, floors):
    status, kind, body = await get(clickhouse_store, f"/api/v1/reports/my_queues_activity?now=2026-12-01T07:45:00Z&format=csv",
                                   report_token(floors[0]))
    lines = list(csv.reader(io.StringIO(body)))
    assert (status, kind) == (200, "text/csv")
    assert lines == [["queue_id", "waiting", "longest_wait_s", "interacting", "agents_on_queue", "agents_idle",
                      "agents_not_responding", "offered", "answered", "abandoned", "sl_pct"],
                     ["general", "2", "900", "1", "2", "1", "1", "4", "2", "0", "50.0"]]
    status, _, body = await get(clickhouse_store, f"/api/v1/reports/interactions?{WEEK}&format=csv&direction=outbound",
                                report_token(floors[0]))
    [header, q4] = list(csv.reader(io.StringIO(body)))
    assert q4[header.index("conversation_id")] == "q4" and q4[header.index("started_at")] == "2026-12-01T07:20:00.000+00:00"


@pytest.mark.parametrize("query,fix", [
    ("granularity=45m", "give one of 15m, 30m, 60m, day"), ("tz=Nowhere/Town", "IANA name"),
    ("from=soon", "ISO 8601"), ("direction=sideways", "inbound or outbound"), ("format=xml", "format=json"),
    ("queues=general", "unknown parameter 'queues'")])
async def test_a_bad_parameter_is_a_400_naming_the_fix(clickhouse_store, floors, query, fix):
    import json

    status, _, body = await get(clickhouse_store, f"/api/v1/reports/queue_performance?{query}", report_token(floors[0]))
    assert status == 400 and fix in json.loads(body)["error"]


async def test_an_unknown_view_is_a_400_listing_the_views(clickhouse_store, floors):
    status, _, body = await get(clickhouse_store, "/api/v1/reports/everything", report_token(floors[0]))
    assert status == 400 and "my_queues_activity" in body


async def test_a_timeline_read_is_audited_before_it_is_answered(clickhouse_store, floors):
    facts = []

    async def audit(fact):
        facts.append(fact)
    status, _, _ = await get(clickhouse_store, "/api/v1/reports/interaction/q3", report_token(floors[0]), audit)
    [fact] = facts
    assert status == 200 and (fact["read"], fact["conversation_id"], fact["items"], fact["tenant_id"]) == (
        "conversation_timeline", "q3", 5, floors[0])
    await get(clickhouse_store, f"/api/v1/reports/queues_performance?{WEEK}", report_token(floors[0]), audit)
    assert len(facts) == 1   # figures name no customer's words: not a read of a conversation
