"""Audit facts of reads (issue 15 item 5): every read of a customer's conversation by a person is
one `access-audit` record — who (person, role, session), what (the read, conversation, customer,
how many items, the path), when — keyed by tenant id. Pure builder; the workspace
(connectors/workspace/audit.py) and the report API (sink/api.py) publish it before they answer,
so a read the broker did not record is not answered (503). docs/security.md.
"""
from __future__ import annotations

import uuid

from schemas import topic

AUDIT = topic("access-audit")
READS = ("conversation_details", "conversation_messages", "customer_history", "conversation_timeline",
         "routing_decisions")


def read_fact(principal, read: str, path: str, now: int, *, origin: str, conversation_id: str | None = None,
              customer_id: str | None = None, items: int = 0) -> dict:
    """The access-audit record of one read by `principal` (a switchboard.auth.Principal)."""
    if read not in READS:
        raise ValueError(f"unknown read {read!r}: one of {', '.join(READS)}")
    return {"audit_id": f"read-{uuid.uuid4().hex}", "tenant_id": principal.tenant_id, "actor_id": principal.person_id,
            "actor_role": principal.role, "session_id": principal.session_id or None, "read": read,
            "conversation_id": conversation_id, "customer_id": customer_id, "items": items, "path": path,
            "origin": origin, "occurred_at": now}
