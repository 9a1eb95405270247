"""A tenant of its own with its accounts, tenant entry and people in the directory, and a whole
`switchboard worker` for it: the set-up of the broker tests that follow one tenant end to end."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import yaml

from schemas import Codec, topic
from switchboard.directory import DirectoryWriter
from switchboard.harness import Topics, Worker
from switchboard.kafka import producer

from tests.streams.conversations.factory import FIXTURES
from tests.streams_fixture import TenantReader

CODEC = Codec()
SECRETS = {"messenger": {"app_secret": "s", "verify_token": "s", "access_token": "s"},
           "whatsapp": {"app_secret": "s", "verify_token": "s", "access_token": "s"}}


def tenant_system(bootstrap: str, tmp: Path, tenant: str, accounts: dict[str, str], tenant_body: dict,
                  people: dict[str, dict], read: dict[str, str]) -> Iterator[tuple]:
    """Yield (topics, producer, reader of `read`) while a worker serves `tenant`: its `accounts`
    (channel -> account id), its tenant entry and `people` (id -> person body) seeded first."""
    path = tmp / "accounts.yaml"
    path.write_text(yaml.safe_dump({"tenants": {tenant: {"accounts": [
        {"channel": channel, "account_id": account, **SECRETS[channel]} for channel, account in accounts.items()]}}}))
    writer = DirectoryWriter({"bootstrap.servers": bootstrap}, CODEC)
    try:
        writer.put(tenant, "tenant", tenant, tenant_body, "test")
        for person, body in people.items():
            writer.put(tenant, "person", person, body, "test")
    finally:
        writer.close()
    worker = Worker(bootstrap, tmp / "data", f"test-{tenant}", path).start(timeout=90)
    reader = TenantReader(bootstrap, tenant, read)
    try:
        yield Topics(bootstrap, CODEC), producer({"bootstrap.servers": bootstrap}), reader
    finally:
        reader.close()
        worker.stop()


def act(kafka, tenant: str, agent: str, kind: str, at: int, **fields) -> None:
    """An agent action of `tenant` (the fixture's, with these fields), produced and acked."""
    action = json.loads((FIXTURES.parent / "routing" / "action.json").read_text()) | {
        "action_id": f"aa-{uuid.uuid4().hex}", "tenant_id": tenant, "agent_id": agent, "type": kind,
        "occurred_at": at, "presence": None} | fields
    kafka.produce(topic("agent-actions").name, key=tenant, value=CODEC.encode("agent-action", action))
    assert kafka.flush(10) == 0


def on_queue(kafka, reader, tenant: str, agents_oldest_first: list[str], at: int) -> None:
    """Put agents on queue (the first idle longest) and wait until routing applied it: its inputs are
    several topics, sequenced in the order they are read, so a message sent at once could overtake a
    presence. `reader` must read agent-notifications."""
    for n, agent in enumerate(agents_oldest_first):
        act(kafka, tenant, agent, "presence", at - 1000 * (len(agents_oldest_first) - n), presence="on_queue")
    reader.wait_for(lambda r: {v["agent_id"] for v in of(r, "agent-notifications", "presence_changed")}
                    >= set(agents_oldest_first), 180)   # generous: a new worker group first recovers its changelogs


def of(records, topic_name: str, kind: str | None = None, **match) -> list[dict]:
    """Values read from `topic_name` of that type (routing decisions: kind) with the fields given."""
    return [v for t, _k, v, _h in records if t == topic(topic_name).name
            and (kind is None or kind in (v.get("type"), v.get("kind"))) and all(v.get(k) == x for k, x in match.items())]
