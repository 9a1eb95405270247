"""A customer's history across channels, merges followed, newest first, paged back to the first."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from sink.history import history, members, parse_cursor, sender_names
from sink.reports import summary_counts

from tests.clickhouse_fixture import get_json, report_token

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
    query = urllib.parse.urlencode({"tenant": tenant, "limit": 3})   # its own tenant may be named
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


def test_a_split_separates_the_history_again_until_they_are_merged_again(clickhouse_store, tenant, scenario):
    def identity(kind, at, customer="cust-B", other="cust-A"):
        return {"topic": "identity-events", "record": {
            "event_id": f"ie-{kind}-{at}", "tenant_id": tenant, "type": kind, "customer_id": customer,
            "merged_customer_id": other, "reason": "a supervisor split them", "actor": "sam", "occurred_at": at}}
    store_directly(clickhouse_store, [identity("split", 1764090000000)])
    assert history(clickhouse_store, tenant, "cust-A")["customers"] == ["cust-A"]
    assert history(clickhouse_store, tenant, "cust-B")["customers"] == ["cust-B"]
    store_directly(clickhouse_store, [identity("merged", 1764090600000, "cust-A", "cust-B")])   # confirmed again
    assert history(clickhouse_store, tenant, "cust-B")["customers"] == ["cust-A", "cust-B"]


def test_the_report_api_needs_a_supervisors_token(clickhouse_url, tenant, scenario):
    url = f"{clickhouse_url}/api/v1/customers/cust-A/history?tenant={tenant}"
    for headers, status in (({}, 401), (report_token(tenant, "agent"), 403)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)
        assert refused.value.code == status and "error" in json.loads(refused.value.read())
    with pytest.raises(urllib.error.HTTPError) as refused:   # another tenant's token naming this tenant
        urllib.request.urlopen(urllib.request.Request(url, headers=report_token("another-tenant")), timeout=5)
    assert refused.value.code == 403 and "own tenant" in json.loads(refused.value.read())["error"]
    request = urllib.request.Request(url.split("?")[0], headers=report_token("another-tenant"))
    with urllib.request.urlopen(request, timeout=5) as r:
        assert json.loads(r.read())["messages"] == []   # the token's tenant: none of this one's messages


def test_the_summary_counts_the_callers_tenant_only(clickhouse_url, tenant, scenario):
    url = f"{clickhouse_url}/api/v1/summary"
    status, mine = get_json(url, report_token(tenant, "admin"), timeout=5)
    assert status == 200 and mine["tenant"] == tenant
    assert (mine["messages"], mine["customers"]) == (6, 2), mine   # cust-B merged into cust-A; cust-C
    status, theirs = get_json(url, report_token(f"{tenant}-other", "admin"), timeout=5)
    assert status == 200 and theirs["messages"] == theirs["conversations"] == theirs["facts"] == 0
    for headers, expected in (({}, 401), (report_token(tenant, "supervisor"), 403)):
        assert get_json(url, headers, timeout=5)[0] == expected
    assert get_json(f"{url}?tenant={tenant}", report_token(f"{tenant}-other", "admin"), timeout=5)[0] == 403


def test_a_row_carries_its_content_items_and_sender_name(clickhouse_store, tenant, scenario):
    # The Messenger photo of the first conversation comes back as the item the platform sent (DDL 0016),
    # for the page to sign (connectors/workspace/page_media.py); a text-only reply has its text item.
    by_id = {m["message_id"]: m for m in history(clickhouse_store, tenant, "cust-A")["messages"]}
    first = by_id["in-ms-1"]
    assert first["content"] == [{"type": "text", "text": "Hi, is my card shipped?"},
                                {"type": "image", "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/card.jpg"
                                                         "?oh=00_AfB&oe=6750A1B2"}]
    assert first["content_types"] == ["image", "text"] and first["sender_name"] == "María López"
    assert by_id["out-1"]["content"] == [{"type": "text", "text": "Yes, it left yesterday."}]
    assert by_id["out-1"]["sender_name"] is None


def test_the_groups_sender_names_are_its_own(clickhouse_store, tenant, scenario):
    group = members(clickhouse_store, tenant, "cust-B")
    assert sender_names(clickhouse_store, tenant, group) == ["María López", "maria lopez", "Mari L."]
    assert sender_names(clickhouse_store, tenant, ["cust-C"]) == ["Carlos Ruiz"]
    assert sender_names(clickhouse_store, "another-tenant", group) == []
