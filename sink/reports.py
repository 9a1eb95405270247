"""Counts over the facts: what `make run` prints at the end, and the report API's summary."""
from __future__ import annotations

from datetime import datetime, timezone

# Every table that holds facts (views over them are not counted twice).
# agent_status_facts holds the status intervals since agent-status-interval v2 (the rows of the
# older agent_status_intervals were copied into it, DDL 0042: counting both would count them twice).
FACT_TABLES = ("message_facts", "conversation_facts", "delivery_facts", "segment_facts",
               "agent_action_facts", "agent_event_facts", "agent_status_facts", "assignment_facts",
               "outbound_rejection_facts", "identity_facts", "routing_decisions", "queue_config_facts",
               "consent_facts", "account_event_facts", "outbound_approval_facts", "window_expiry_facts")

# Customers after merges: every customer seen, minus those absorbed into another.
CUSTOMERS_SQL = """SELECT uniqExact(tenant_id, customer_id) FROM (
    SELECT tenant_id, customer_id FROM identity_facts FINAL
    UNION ALL
    SELECT tenant_id, assumeNotNull(customer_id) FROM conversation_facts FINAL WHERE customer_id IS NOT NULL
) WHERE (tenant_id, customer_id) NOT IN (SELECT tenant_id, merged_customer_id FROM customer_merges)"""


def counts_sql(one_tenant: bool = False) -> str:
    """One query: conversations, customers, messages and all fact rows (FINAL: replays count once);
    with `one_tenant`, only the rows of tenant `{tenant:String}`."""
    where = " WHERE tenant_id = {tenant:String}" if one_tenant else ""
    customers = CUSTOMERS_SQL + (" AND tenant_id = {tenant:String}" if one_tenant else "")
    per_table = " + ".join(f"(SELECT count() FROM {t} FINAL{where})" for t in FACT_TABLES)
    return (f"SELECT (SELECT count() FROM conversation_facts FINAL{where}) AS conversations, "
            f"({customers}) AS customers, (SELECT count() FROM message_facts FINAL{where}) AS messages, "
            f"{per_table} AS facts")


def summary_counts(client) -> dict[str, int]:
    """{"conversations", "customers", "messages", "facts"} of every tenant (make run's summary)."""
    result = client.query(counts_sql())
    return {name: int(value) for name, value in zip(result.column_names, result.result_rows[0])}


def tenant_summary_counts(client, tenant: str) -> dict[str, int]:
    """The same counts of one tenant's facts only (the report API's /summary)."""
    result = client.query(counts_sql(one_tenant=True), parameters={"tenant": tenant})
    return {name: int(value) for name, value in zip(result.column_names, result.result_rows[0])}


# Only a delivered per-message-priced row carries a cost (DDL 0018), so sent/read never count twice.
TEMPLATE_COST_SQL = """SELECT currency, sum(cost) AS total FROM delivery_facts FINAL
WHERE cost IS NOT NULL AND occurred_at >= {since:DateTime64(3, 'UTC')} GROUP BY currency ORDER BY currency"""


def template_cost(client, since: datetime) -> dict[str, float]:
    """What the WhatsApp messages delivered since `since` cost, per currency ({"USD": 0.0625})."""
    result = client.query(TEMPLATE_COST_SQL, {"since": since})
    return {currency: round(float(total), 6) for currency, total in result.result_rows}


# Approved outbounds (one row per outbound id, whichever stage approved it) and held ones (distinct
# outbound ids of a tenant with a `held` status: a message held, released and held again counts once;
# ids are the senders', unique within a tenant only).
POLICY_SQL = """SELECT
    (SELECT count() FROM outbound_approval_facts FINAL WHERE approved_at >= {since:DateTime64(3, 'UTC')}) AS approved,
    (SELECT uniqExact(tenant_id, outbound_id) FROM delivery_facts FINAL
     WHERE status = 'held' AND outbound_id IS NOT NULL AND occurred_at >= {since:DateTime64(3, 'UTC')}) AS held"""


def policy_counts(client, since: datetime) -> dict[str, int]:
    """{"approved", "held"}: outbound messages the policy approved and held since `since`."""
    result = client.query(POLICY_SQL, {"since": since})
    return {name: int(value) for name, value in zip(result.column_names, result.result_rows[0])}


def service_sql() -> str:
    """Service level % and average handle time over [from, to): the views' own metric SQL (sink/views)."""
    from .views import expand

    return expand("SELECT (SELECT {{metrics:sl_pct}} FROM ({{relation:visits}}) WHERE {{during:ended_at}}) AS sl_pct, "
                  "(SELECT {{metrics:avg_handle_s}} FROM ({{relation:participations}}) "
                  "WHERE {{during:completed_at}}) AS avg_handle_s")


def service(client, tenant: str, since: datetime, until: datetime | None = None) -> dict:
    """{"sl_pct", "avg_handle_s"} of the tenant's visits and participations that ended since `since`
    (None when none did), with the service-level switches' defaults."""
    from .metrics import DEFAULTS

    until = until or datetime.now(timezone.utc)
    result = client.query(service_sql(), parameters={"tenant": tenant, "from": since, "to": until} | DEFAULTS)
    return {name: None if v is None else round(float(v), 1) for name, v in zip(result.column_names, result.result_rows[0])}


def run_facts(client, since: datetime, tenant: str = "acme") -> dict:
    """What `make run`'s summary line takes from the facts of the run: approved, held, template_cost,
    and the demo tenant's (deploy/people.yaml) sl_pct and avg_handle_s."""
    return policy_counts(client, since) | {"template_cost": template_cost(client, since)} | service(client, tenant, since)
