"""SQL through the report API's filters (the customer id, the `before` cursor, the limit) is data,
never SQL: every query binds them as ClickHouse parameters, so an injection finds nothing and
changes nothing, and the tenant's own history is unchanged afterwards (docs/security.md)."""
import urllib.parse

from tests.clickhouse_fixture import get_json, report_token
from tests.sink.scenario import load, store_directly

INJECTIONS = ["cust-A' OR '1'='1", "cust-A') OR 1=1 --", "x' UNION ALL SELECT * FROM message_facts --",
              "cust-A'; DROP TABLE message_facts; --", "cust-A\\' OR tenant_id != ''"]


def test_sql_in_a_report_filter_is_a_value_that_matches_nothing(clickhouse_url, clickhouse_store, tenant):
    store_directly(clickhouse_store, load("history_scenario.json", tenant)["events"])
    store_directly(clickhouse_store, load("history_scenario.json", f"{tenant}-other")["events"])   # another tenant's rows
    me = report_token(tenant)
    base = f"{clickhouse_url}/api/v1/customers"
    status, honest = get_json(f"{base}/cust-A/history?limit=200", me)
    assert status == 200 and honest["messages"]
    for customer in INJECTIONS:
        status, page = get_json(f"{base}/{urllib.parse.quote(customer, safe='')}/history", me)
        assert (status, page["messages"]) == (200, []), customer
    for query, expected in [("before=" + urllib.parse.quote("1:x' OR '1'='1"), 200),
                            ("before=" + urllib.parse.quote("1 OR 1=1:m"), 400),
                            ("limit=" + urllib.parse.quote("1; DROP TABLE message_facts"), 400)]:
        status, page = get_json(f"{base}/cust-A/history?{query}", me)
        assert status == expected and page.get("messages", []) == [], (query, status, page)
    assert get_json(f"{base}/cust-A/history?limit=200", me) == (200, honest)   # nothing changed, nothing dropped
