"""Sample events of the conversation processor's sources, for its tests and benchmarks.

Built from the contract's examples (schemas/examples/<subject>/): `numbered` makes the n-th distinct
message of a base event, `on_thread` moves an event to another thread (tenant, account, user).
"""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from schemas.registry import AVRO_DIR

from .state import thread_parts

EXAMPLES = AVRO_DIR.parent / "examples"


@cache
def _parsed(path: Path) -> dict:
    return json.loads(path.read_text())


def load(path: Path) -> dict:
    """A copy of the JSON event in `path` (read once; the copy is yours to change)."""
    return copy.deepcopy(_parsed(path))


def example(subject: str, name: str) -> dict:
    """The contract's example `name` of `subject`."""
    return load(EXAMPLES / subject / f"{name}.json")


def numbered(record: dict, n: int, at: int, **overrides) -> dict:
    """Message number `n` of `record` (distinct platform and event ids) at `at` millis."""
    return record | {"platform_message_id": f"{record['platform_message_id']}-{n}",
                     "event_id": f"{record['event_id']}-{n}", "occurred_at": at, "received_at": at} | overrides


def inbound(n: int, at: int, **overrides) -> dict:
    """Inbound WhatsApp text number `n` at `at` millis (the contract's `whatsapp_text` example)."""
    return numbered(example("inbound-message", "whatsapp_text"), n, at, **overrides)


def on_thread(record: dict, thread_key: str) -> dict:
    """The record moved to another thread (tenant, channel, account and user from the key)."""
    tenant, channel, account, user = thread_parts(thread_key)
    moved = record | {"thread_key": thread_key, "tenant_id": tenant, "channel": channel,
                      "channel_account_id": account}
    if "sender" in record:
        moved["sender"] = record["sender"] | {"external_id": user}
    return moved
