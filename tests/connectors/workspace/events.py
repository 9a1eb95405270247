"""The workspace fixture file (tests/fixtures/workspace/agent_events.json) for a tenant of the test's own."""
from __future__ import annotations

import json
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "workspace" / "agent_events.json"


def scenario(tenant: str) -> dict:
    """People, routing and agent events with TENANT replaced; every event carries `tenant_id`."""
    data = json.loads(FIXTURE.read_text().replace("TENANT", tenant))
    data["events"] = [{"tenant_id": tenant, **e} for e in data["events"]]
    return data


def upto(events: list[dict], event_id: str) -> list[dict]:
    """The events up to and including the one with `event_id`."""
    ids = [e["event_id"] for e in events]
    return events[: ids.index(event_id) + 1]
