"""A customer's history across channels, merges followed, newest first, paged back to the first."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sink.history import history, parse_cursor
from sink.reports import summary_counts

from tests.clickhouse_fixture import report_token

from .scenario import load, store_directly

pytestmark = pytest.mark.clickhouse


@pytest.fixture
def scenario(clickhouse_store, tenant) -> dict:
    data = load("history_scenario.json", tenant)
    store_directly(clickhouse_store, data["events"])
    return data


def all_pages(client, tenant: str, customer: str, limit: int) -> list[list[str]]:
    pages, before = [], None
    while True:
        page = history(client, tenant, customer, before=before, limit=limit)
        pages.append([m["message_id"] for m in page["messages"]])
        if not (before := page["next"]):
            return pages


def test_pages_walk_back_to_the_first_message_across_channels_and_a_merge(clickhouse_store, tenant, scenario):
    expected = scenario["expected_history_of_A"]
    assert all_pages(clickhouse_store, tenant, "cust-A", limit=2) == [expected[0:2], expected[2:4], expected[4:]]
    page = history(clickhouse_store, tenant, "cust-A", limit=50)
    assert {m["channel"] for m in page["messages"]} == {"messenger", "web", "whatsapp"}
    assert page["customers"] == ["cust-A", "cust-B"] and page["next"] is None


def test_a_merged_customer_sees_the_survivors_history(clickhouse_store, tenant, scenario):
    page = history(clickhouse_store, tenant, "cust-B")
    assert page["customer_id"] == "cust-A"
    assert [m["message_id"] for m in page["messages"]] == scenario["expected_history_of_A"]


def test_other_customers_stay_out(clickhouse_store, tenant, scenario):
    assert [m["message_id"] for m in history(clickhouse_store, tenant, "cust-C")["messages"]] == ["in-line-c"]


def test_a_replay_changes_no_page_and_no_count(clickhouse_store, tenant, scenario):
    before = (history(clickhouse_store, tenant, "cust-A"), summary_counts(clickhouse_store))
    store_directly(clickhouse_store, scenario["events"])
    assert (history(clickhouse_store, tenant, "cust-A"), summary_counts(clickhouse_store)) == before


def test_clickhouse_connect_and_the_report_api_give_the_same_page(clickhouse_client, clickhouse_url, tenant, scenario):
    from_client = history(clickhouse_client, tenant, "cust-A", limit=3)
    query = urllib.parse.urlencode({"tenant": "someone-else", "limit": 3})   # ?tenant= is ignored
    request = urllib.request.Request(f"{clickhouse_url}/api/v1/customers/cust-A/history?{query}",
                                     headers=report_token(tenant))
    with urllib.request.urlopen(request, timeout=5) as r:
        from_api = json.loads(r.read())
    assert from_api == from_client
    assert [m["message_id"] for m in from_api["messages"]] == scenario["expected_history_of_A"][:3]
    assert from_api["messages"][0]["occurred_at"] == "2025-11-25T17:00:00.000Z"


def test_cursors_are_checked():
    assert parse_cursor("1764000060000:out:1") == (1764000060000, "out:1")
    with pytest.raises(ValueError, match="bad cursor"):
        parse_cursor("yesterday")


def test_a_customer_merged_into_two_others_joins_all_three(clickhouse_store, tenant, scenario):
    # D's email matched A and D's phone matched C, decided on two partitions: A, C and D are one.
    both = [{"topic": "identity-events", "record": {
        "event_id": f"ie-d-{survivor}", "tenant_id": tenant, "type": "merged", "customer_id": survivor,
        "merged_customer_id": "cust-D", "reason": "detail matches", "occurred_at": 1764009000000}}
        for survivor in ("cust-A", "cust-C")]
    store_directly(clickhouse_store, both)
    for asked in ("cust-A", "cust-C", "cust-D"):
        page = history(clickhouse_store, tenant, asked)
        assert page["customers"] == ["cust-A", "cust-B", "cust-C", "cust-D"] and page["customer_id"] == "cust-A"
        assert "in-line-c" in [m["message_id"] for m in page["messages"]]


def test_the_report_api_needs_a_supervisors_token(clickhouse_url, tenant, scenario):
    url = f"{clickhouse_url}/api/v1/customers/cust-A/history?tenant={tenant}"
    for headers, status in (({}, 401), (report_token(tenant, "agent"), 403)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)
        assert refused.value.code == status and "error" in json.loads(refused.value.read())
    request = urllib.request.Request(url, headers=report_token("another-tenant"))
    with urllib.request.urlopen(request, timeout=5) as r:
        assert json.loads(r.read())["messages"] == []   # the token's tenant, not the query's
