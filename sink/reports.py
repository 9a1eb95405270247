"""Counts over the facts: what `make run` prints at the end, and the report API's summary."""
from __future__ import annotations

from datetime import datetime

# Every table that holds facts (views over them are not counted twice).
FACT_TABLES = ("message_facts", "conversation_facts", "delivery_facts", "segment_facts",
               "agent_action_facts", "agent_event_facts", "agent_status_intervals", "assignment_facts",
               "outbound_rejection_facts", "identity_facts", "routing_decisions")

# Customers after merges: every customer seen, minus those absorbed into another.
CUSTOMERS_SQL = """SELECT uniqExact(tenant_id, customer_id) FROM (
    SELECT tenant_id, customer_id FROM identity_facts FINAL
    UNION ALL
    SELECT tenant_id, assumeNotNull(customer_id) FROM conversation_facts FINAL WHERE customer_id IS NOT NULL
) WHERE (tenant_id, customer_id) NOT IN (SELECT tenant_id, merged_customer_id FROM customer_merges)"""


def counts_sql() -> str:
    """One query: conversations, customers, messages and all fact rows (FINAL: replays count once)."""
    per_table = " + ".join(f"(SELECT count() FROM {t} FINAL)" for t in FACT_TABLES)
    return (f"SELECT (SELECT count() FROM conversation_facts FINAL) AS conversations, "
            f"({CUSTOMERS_SQL}) AS customers, (SELECT count() FROM message_facts FINAL) AS messages, "
            f"{per_table} AS facts")


def summary_counts(client) -> dict[str, int]:
    """{"conversations", "customers", "messages", "facts"} from ClickHouse (any clickhouse-connect client)."""
    result = client.query(counts_sql())
    return {name: int(value) for name, value in zip(result.column_names, result.result_rows[0])}


# Only a delivered per-message-priced row carries a cost (DDL 0018), so sent/read never count twice.
TEMPLATE_COST_SQL = """SELECT currency, sum(cost) AS total FROM delivery_facts FINAL
WHERE cost IS NOT NULL AND occurred_at >= {since:DateTime64(3, 'UTC')} GROUP BY currency ORDER BY currency"""


def template_cost(client, since: datetime) -> dict[str, float]:
    """What the WhatsApp messages delivered since `since` cost, per currency ({"USD": 0.0625})."""
    result = client.query(TEMPLATE_COST_SQL, {"since": since})
    return {currency: round(float(total), 6) for currency, total in result.result_rows}
