"""Between Kafka and the pure ACD: decode an event, find its domain's state, apply, persist.

`Router` knows nothing of faust: it takes (topic, bytes) and a dict-like state table and returns
the encoded records to produce, so the faust agent around it stays a few lines and this part is
testable without a broker. A domain's state is rebuilt from the table the first time one of its
events arrives in this process (after a start or a rebalance).
"""
from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping

from schemas import Codec, topic
from streams.records import Output, millis

from .acd import apply_action, apply_request, apply_tick, reconfigure
from .config import ConfigCache, RoutingConfigError
from .domain import Domain
from .snapshot import changes, restore

log = logging.getLogger(__name__)

REQUESTS, ACTIONS, TICKS = (topic(n).name for n in ("routing-requests", "agent-actions", "routing-ticks"))
SUBJECTS = {REQUESTS: "routing-request", ACTIONS: "agent-action", TICKS: "routing-tick"}
STATE_SUBJECT = "routing-state"


class Router:
    """Routing domains of this worker, applied event by event (see module docstring)."""

    def __init__(self, table: MutableMapping[str, bytes], configs: ConfigCache, codec: Codec,
                 presence_grace_ms: int = 60_000):
        self.table, self.configs, self.codec = table, configs, codec
        self.presence_grace_ms = presence_grace_ms
        self.states: dict[str, Domain] = {}
        self.partitions: dict[str, int] = {}

    def handle(self, source: str, record: dict, partition: int | None = None) -> list[Output]:
        """Apply one decoded event; the records to produce. Raises on bad input, after discarding
        the domain (its next event rebuilds it from the table, as the contract rolled it back)."""
        tenant = record["tenant_id"]
        self._check_partition(tenant, partition)
        try:
            return self._apply(source, record, self.state(tenant))
        except Exception:
            self.discard(tenant)
            raise

    def _apply(self, source: str, record: dict, state: Domain) -> list[Output]:
        if source == REQUESTS:
            record["requested_at"] = millis(record["requested_at"])
            outputs = apply_request(state, record)
        elif source == ACTIONS:
            record["occurred_at"] = millis(record["occurred_at"])
            outputs = apply_action(state, record)
        else:
            outputs = self._reload(state) + apply_tick(state, millis(record["tick_at"]))
        self._persist(state)
        return outputs

    def state(self, tenant: str) -> Domain:
        """The domain's state, rebuilt from the table if this process has not seen it yet."""
        if tenant not in self.states:
            prefix = f"{tenant}:"
            entries = [(key[len(prefix):], json.loads(self.codec.decode(raw, STATE_SUBJECT)["body"]))
                       for key, raw in list(self.table.items()) if key.startswith(prefix)]
            self.states[tenant] = restore(self.configs.get(tenant), entries, self.presence_grace_ms)
            log.info("routing domain %s: %d state entries restored", tenant, len(entries))
        return self.states[tenant]

    def forget(self) -> None:
        """Drop every in-memory domain (partitions were revoked: another worker may own them now)."""
        self.states.clear()
        self.partitions.clear()

    def discard(self, tenant: str) -> None:
        """Drop one domain after a failed event; the next event rebuilds it from the table."""
        self.states.pop(tenant, None)

    def _reload(self, state: Domain) -> list:
        try:
            config = self.configs.get(state.tenant)
        except RoutingConfigError as exc:
            log.error("routing file of %s refused, keeping the last good one: %s", state.tenant, exc)
            return []
        return reconfigure(state, config) if config is not state.config else []

    def _persist(self, state: Domain) -> None:
        for key, kind, body in changes(state):
            if body is None:
                self.table.pop(key, None)
            else:
                self.table[key] = self.codec.encode(STATE_SUBJECT, {
                    "tenant_id": state.tenant, "kind": kind, "updated_at": state.now,
                    "body": json.dumps(body, separators=(",", ":"))})

    def _check_partition(self, tenant: str, partition: int | None) -> None:
        # Every producer must partition by murmur2 of the key (Java's and aiokafka's default;
        # librdkafka needs partitioner=murmur2_random) or a domain's events split across workers.
        if partition is None:
            return
        known = self.partitions.setdefault(tenant, partition)
        if known != partition:
            log.warning("routing domain %s arrived on partitions %d and %d: a producer does not "
                        "use the murmur2 partitioner", tenant, known, partition)
