"""The access audit's fact rows: `access-audit` records to `access_audit_facts` (DDL 0031).

Beside the sink's own mappers (sink/rows.py); adding `AUDIT_MAPPERS` to `MAPPERS` is what makes the
sink subscribe `access-audit`.
"""
from __future__ import annotations

from collections.abc import Callable

Row = tuple[str, dict]
COLUMNS = ("tenant_id", "audit_id", "actor_id", "actor_role", "session_id", "read", "conversation_id",
           "customer_id", "items", "path", "origin", "occurred_at")


def access_audit(r: dict) -> list[Row]:
    """One row per read."""
    return [("access_audit_facts", {c: r.get(c) for c in COLUMNS})]


AUDIT_MAPPERS: dict[str, Callable[[dict], list[Row]]] = {"access-audit": access_audit}
