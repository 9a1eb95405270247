"""The workspace's audit of reads: `audited(request, principal, read, …)` publishes one access-audit
record (switchboard/audit.py) and waits for the broker's acknowledgement before the route answers —
503 and no answer when it does not come, so no read goes unrecorded."""
from __future__ import annotations

from aiohttp import web

from connectors.publisher import Record
from switchboard.audit import AUDIT, read_fact

from .app import publish, workspace_of


def audit_record(codec, fact: dict) -> Record:
    """The access-audit record, keyed by its tenant."""
    return Record(AUDIT.name, fact["tenant_id"], codec.encode(AUDIT.value, fact))


async def audited(request: web.Request, principal, read: str, *, conversation_id: str | None = None,
                  customer_id: str | None = None, items: int = 0) -> None:
    """Record that `principal` read this (origin edge)."""
    ws = workspace_of(request)
    fact = read_fact(principal, read, f"{request.method} {request.path}", ws.now(), origin="edge",
                     conversation_id=conversation_id, customer_id=customer_id, items=items)
    await publish(request, [audit_record(ws.codec, fact)])
