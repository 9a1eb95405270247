"""The account stage in a real `switchboard worker` (the accounts agent only, ticks from the test):
records keyed by portfolio key, read back by a tenant id of the test's own."""
from __future__ import annotations

import uuid

from schemas import Codec, topic
from switchboard.harness import Worker
from switchboard.kafka import producer
from tests.streams_fixture import TenantReader

from .factory import ACCOUNTS, record, template

SUBJECTS = {topic(n).name: topic(n).value for n in ("outbound-approved", "outbound-rejected", "delivery-status",
                                                    "policy-views")}


def account_worker(bootstrap: str, data_dir, name: str) -> Worker:
    """A worker running the account stage over the fixture accounts."""
    return Worker(bootstrap, data_dir, f"{name}-{uuid.uuid4().hex[:8]}", ACCOUNTS, processors="streams.accounts.agent")


class Portfolio:
    """A tenant of the test's own with one portfolio: produce its inputs, read its outputs."""

    def __init__(self, bootstrap: str, prefix: str = "a"):
        self.tenant = f"{prefix}{uuid.uuid4().hex[:10]}"
        self.key = f"{self.tenant}:main"
        self.codec, self.producer = Codec(), producer({"bootstrap.servers": bootstrap})
        self.reader = TenantReader(bootstrap, self.tenant, SUBJECTS)

    def mine(self, value: dict) -> dict:
        """A fixture record moved to this tenant (thread keys and portfolio key too)."""
        moved = value | {"tenant_id": self.tenant, "portfolio_key": self.key}
        if "thread_key" in value:
            moved["thread_key"] = f"{self.tenant}:{value['thread_key'].split(':', 1)[1]}"
        return moved

    def produce(self, name: str, values: list[dict]) -> None:
        t = topic(name)
        for value in values:
            self.producer.produce(t.name, key=self.key.encode(), value=self.codec.encode(t.value, self.mine(value)))
        assert self.producer.flush(10) == 0, f"records to {t.name} not acked"

    def event(self, name: str, **overrides) -> None:
        self.produce("account-events", [record(name, **overrides)])

    def templates(self, numbers, **overrides) -> list[dict]:
        return [self.mine(template(n, **overrides)) for n in numbers]

    def of(self, records, name: str) -> list[dict]:
        return [v for n, _, v, _ in records if n == topic(name).name]

    def verdicts(self, records) -> dict[str, str]:
        """outbound id -> approved / rejected:<rule> / held (the last word on each)."""
        out = {}
        for n, _, v, _ in records:
            if n == topic("outbound-approved").name:
                out[v["outbound_id"]] = "approved"
            elif n == topic("outbound-rejected").name:
                out[v["outbound_id"]] = f"rejected:{v['rule']}"
            elif n == topic("delivery-status").name and v["status"] == "held":
                out.setdefault(v["outbound_id"], "held")
        return out
