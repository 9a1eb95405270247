"""Events for the conversation processor's tests, from tests/fixtures/conversations/ files."""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"
ACCOUNTS = FIXTURES / "accounts.yaml"
HOUR, MINUTE = 3_600_000, 60_000
T0 = 1_764_063_000_000  # the fixtures' first message time


@cache
def _load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def event(name: str, **overrides) -> dict:
    """The fixture `name` with top-level fields replaced."""
    return copy.deepcopy(_load(name)) | overrides


def inbound(n: int = 1, at: int = T0, name: str = "inbound_whatsapp", **overrides) -> dict:
    """Inbound message number `n` (distinct platform and event ids) at `at` millis."""
    base = event(name)
    return base | {"platform_message_id": f"{base['platform_message_id']}-{n}",
                   "event_id": f"{base['event_id']}-{n}", "occurred_at": at, "received_at": at} | overrides


def on_thread(record: dict, thread_key: str) -> dict:
    """The record moved to another thread (tenant, channel, account and user from the key)."""
    tenant, channel, account, user = thread_key.split(":", 3)
    moved = record | {"thread_key": thread_key, "tenant_id": tenant, "channel": channel,
                      "channel_account_id": account}
    if "sender" in record:
        moved["sender"] = record["sender"] | {"external_id": user}
    return moved


def outputs_of(steps, topic: str) -> list[dict]:
    """Values of every output to `topic` in a list of steps."""
    return [o.value for s in steps for o in s.outputs if o.topic == topic]
