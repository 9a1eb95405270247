"""Helpers shared by the connector tests: accounts files, signatures, reading topics back."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from channels.registry import CHANNELS as DECLARED
from switchboard.accounts import load_accounts
from switchboard.kafka import consume_available

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Every channel with a connector, in the registry's order (channels/registry.py).
CHANNELS = tuple(name for name, spec in DECLARED.items() if spec.connector)
# The channels whose platforms call /webhooks/… (web's guest socket is its own way in: connectors/web.py).
WEBHOOKS = tuple(c for c in CHANNELS if DECLARED[c].signature is not None)
# What each platform signs with, and in which header: its declaration (channels/<channel>.py).
SIGNING = {c: (DECLARED[c].signature.header, DECLARED[c].signature.render) for c in WEBHOOKS}


# The current signing secret and the id of each channel's test account (tests/fixtures/connectors/accounts.yaml).
_TEST_ACCOUNTS = {a.channel: a for a in load_accounts(FIXTURES / "connectors" / "accounts.yaml")}
SECRETS = {c: a.signing_secrets()[0].decode() for c, a in _TEST_ACCOUNTS.items() if a.signing_secrets()}
ACCOUNT_IDS = {c: a.account_id for c, a in _TEST_ACCOUNTS.items()}


def prune(value):
    """The value without None, empty lists/maps and False (as the golden files are written)."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v not in (None, [], {}, False)}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def accounts_file(tmp_path: Path, tenant: str, api: str = "http://127.0.0.1:9") -> Path:
    """tests/fixtures/connectors/accounts.yaml for `tenant`, APIs at `api`, written to tmp_path."""
    text = (FIXTURES / "connectors" / "accounts.yaml").read_text()
    path = tmp_path / f"accounts-{tenant}.yaml"
    path.write_text(text.replace("TENANT", tenant).replace("http://API", api))
    return path


def new_tenant() -> str:
    """A tenant id no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}"


def load_test_accounts(tmp_path: Path, tenant: str, api: str = "http://127.0.0.1:9"):
    """The test accounts for `tenant`."""
    return load_accounts(accounts_file(tmp_path, tenant, api))


def webhook(channel: str, name: str) -> bytes:
    """A webhook fixture's stored bytes (sign them as they are)."""
    return (FIXTURES / "webhooks" / channel / f"{name}.json").read_bytes()


def signed_headers(channel: str, body: bytes, secret: str | None = None) -> dict[str, str]:
    """The platform's signature header over `body` with the test secret."""
    header, render = SIGNING[channel]
    return {header: render((secret or SECRETS[channel]).encode(), body), "Content-Type": "application/json"}


def golden(channel: str, name: str) -> dict:
    """The normalized events a webhook fixture must yield (tests/fixtures/normalized/), tenant acme."""
    return json.loads((FIXTURES / "normalized" / channel / f"{name}.json").read_text())


def for_tenant(record: dict, tenant: str) -> dict:
    """A golden record moved from tenant acme to `tenant`."""
    return {**record, "tenant_id": tenant, "thread_key": tenant + record["thread_key"].removeprefix("acme")}


def read_back(bootstrap: str, topic: str, since_ms: int, keep, timeout: float = 10.0) -> list:
    """Committed records of `topic` from `since_ms` up to its current end for which keep(msg) is true.

    Everything acknowledged before the call lies below the end offsets taken here, so nothing
    needs to wait for records that should not exist.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    try:
        parts = consumer.list_topics(topic, timeout=5).topics[topic].partitions
        starts = consumer.offsets_for_times([TopicPartition(topic, p, since_ms) for p in parts], timeout=5)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in parts}
        pending = {tp.partition for tp in starts if 0 <= tp.offset < ends[tp.partition]}
        consumer.assign([tp for tp in starts if tp.partition in pending])
        found, deadline = [], time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            found += [m for m in consume_available(consumer, 500, 0.1) if m.error() is None and keep(m)]
            done = [tp.partition for tp in consumer.position([TopicPartition(topic, p) for p in pending])
                    if tp.offset >= ends[tp.partition]]
            pending -= set(done)
        assert not pending, f"{topic}: partitions {sorted(pending)} not read to their end in {timeout} s"
        return found
    finally:
        consumer.close()
