"""What became of one outbound message, from the facts (ClickHouse), scoped to the caller's tenant.

A message is refused by either policy stage (`outbound_rejection_facts`, from outbound-rejected),
approved (`outbound_approval_facts`, from outbound-approved), then held, sent, delivered, read or
failed (`delivery_facts`, from delivery-status: deliver's rows by our outbound id, the platform's
receipts by the platform message ids deliver recorded; a delivered WhatsApp message with its cost). `client` is a clickhouse-connect client.
"""
from __future__ import annotations

from .book import RECEIPT_RANK

MS = "toUnixTimestamp64Milli"
REJECTED_SQL = f"""SELECT rule, reason, {MS}(rejected_at) FROM outbound_rejection_facts FINAL
WHERE tenant_id = {{tenant:String}} AND outbound_id = {{outbound:String}} ORDER BY rejected_at LIMIT 1"""
APPROVED_SQL = f"""SELECT {MS}(approved_at), template_category, toString(price_amount), price_currency
FROM outbound_approval_facts FINAL WHERE tenant_id = {{tenant:String}} AND outbound_id = {{outbound:String}}
LIMIT 1"""
# The platform's receipts (delivered, read, and the delivered one's cost) name the platform's message
# ids, not ours: they are found by the ids deliver's send result recorded for the outbound id.
DELIVERY_SQL = f"""SELECT status, {MS}(occurred_at), error_code, error_reason, hold_reason,
       {MS}(hold_until), toString(cost), currency FROM delivery_facts FINAL
WHERE tenant_id = {{tenant:String}} AND (outbound_id = {{outbound:String}} OR hasAny(platform_message_ids, (
      SELECT groupArrayArray(platform_message_ids) FROM delivery_facts FINAL
      WHERE tenant_id = {{tenant:String}} AND outbound_id = {{outbound:String}})))
ORDER BY occurred_at, event_id LIMIT 100"""


def outcome(client, tenant: str, outbound_id: str) -> dict | None:
    """{outbound_id, state, rejected?, approved?, deliveries[]} (None: no fact of it yet)."""
    params = {"tenant": tenant, "outbound": outbound_id}
    rejected = client.query(REJECTED_SQL, parameters=params).result_rows
    approved = client.query(APPROVED_SQL, parameters=params).result_rows
    deliveries = [{"status": s, "at": at, "error_code": code, "error_reason": reason, "hold_reason": hold,
                   "hold_until": until, "cost": cost, "currency": currency}
                  for s, at, code, reason, hold, until, cost, currency in
                  client.query(DELIVERY_SQL, parameters=params).result_rows]
    if not (rejected or approved or deliveries):
        return None
    # The furthest status, not the latest row: receipts of one message may arrive out of order (book.py).
    furthest = max(deliveries, key=lambda d: RECEIPT_RANK.get(d["status"], 0))["status"] if deliveries else None
    state = "rejected" if rejected else furthest or "approved"
    return {"outbound_id": outbound_id, "state": state,
            "rejected": {"rule": rejected[0][0], "reason": rejected[0][1], "at": rejected[0][2]} if rejected else None,
            "approved": {"at": approved[0][0], "category": approved[0][1], "price": approved[0][2],
                         "currency": approved[0][3]} if approved else None,
            "deliveries": deliveries}
