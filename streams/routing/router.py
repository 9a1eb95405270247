"""Between Kafka and the pure ACD: decode an event, find its domain's state, apply, persist.

`Router` knows nothing of faust: it takes (topic, bytes) and a dict-like state table and returns
the encoded records to produce, so the faust agent around it stays a few lines and this part is
testable without a broker. A domain's state is rebuilt from the table the first time one of its
events arrives in this process (after a start or a rebalance). A domain is found by its routing
key (`keys.py`): the tenant id, or `<tenant>/<domain>` routed with that domain's view of the
tenant's configuration (`RoutingConfig.for_domain`); a request for a conversation that a transfer
moved to another domain is forwarded there (`moves.py`).
"""
from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping

from schemas import Codec, topic
from streams.ranges import items_with_prefix
from streams.records import Output, millis

from .acd import apply_action, apply_request, apply_tick, reconfigure
from .config import ConfigCache, RoutingConfigError
from .config import RoutingConfig
from .domain import Domain
from .keys import domain_of_key
from .moves import forward
from .snapshot import changes, restore
from .work import apply_work

log = logging.getLogger(__name__)

REQUESTS, ACTIONS, TICKS = (topic(n).name for n in ("routing-requests", "agent-actions", "routing-ticks"))
WORK = topic("work-events").name   # another system's work (work.py)
SUBJECTS = {REQUESTS: "routing-request", ACTIONS: "agent-action", TICKS: "routing-tick", WORK: "work-event"}
STATE_SUBJECT = "routing-state"


class Router:
    """Routing domains of this worker, applied event by event (see module docstring)."""

    def __init__(self, table: MutableMapping[str, bytes], configs: ConfigCache, codec: Codec,
                 presence_grace_ms: int = 60_000):
        self.table, self.configs, self.codec = table, configs, codec
        self.presence_grace_ms = presence_grace_ms
        self.states: dict[str, Domain] = {}
        self.partitions: dict[str, int] = {}
        self.views: dict[str, tuple[RoutingConfig, RoutingConfig]] = {}  # key -> (tenant's, domain's)

    def handle(self, source: str, record: dict, partition: int | None = None,
               key: str | bytes | None = None) -> list[Output]:
        """Apply one decoded event to the domain of `key` (default: the record's tenant); the records
        to produce. Raises on bad input, after discarding the domain (its next event rebuilds it
        from the table, as the contract rolled it back)."""
        tenant = record["tenant_id"]
        key = (key.decode() if isinstance(key, bytes) else key) or tenant
        self._check_partition(key, partition)
        try:
            return self._apply(source, record, self.state(key, tenant), key)
        except Exception:
            self.discard(key)
            raise

    def _apply(self, source: str, record: dict, state: Domain, key: str) -> list[Output]:
        if source == REQUESTS:
            record["requested_at"] = millis(record["requested_at"])
            if record.get("reply_deadline_at") is not None:
                record["reply_deadline_at"] = millis(record["reply_deadline_at"])
            outputs = forward(state, record) or apply_request(state, record)
        elif source == ACTIONS:
            record["occurred_at"] = millis(record["occurred_at"])
            outputs = apply_action(state, record)
        elif source == WORK:
            record["occurred_at"] = millis(record["occurred_at"])
            outputs = apply_work(state, record)
        else:
            outputs = self._reload(state, key) + apply_tick(state, millis(record["tick_at"]))
        self._persist(state, key)
        return outputs

    def state(self, key: str, tenant: str) -> Domain:
        """The domain's state, rebuilt from the table if this process has not seen it yet."""
        if key not in self.states:
            prefix = f"{key}:"
            # One key range (`streams/ranges.py`: a seek in the event's partition), not every key
            # of the worker's table once per restored domain.
            entries = [(k[len(prefix):], json.loads(self.codec.decode(value, STATE_SUBJECT)["body"]))
                       for k, value in items_with_prefix(self.table, prefix)]
            self.states[key] = restore(self.config(key, tenant), entries, self.presence_grace_ms)
            log.info("routing domain %s: %d state entries restored", key, len(entries))
        return self.states[key]

    def config(self, key: str, tenant: str) -> RoutingConfig:
        """The configuration a routing key routes with: the tenant's, or its domain's view of it
        (the same object while the tenant's is, so a reload is noticed by identity)."""
        name = domain_of_key(key, tenant)
        whole = self.configs.get(tenant)
        if name is None:
            return whole
        cached = self.views.get(key)
        if cached is None or cached[0] is not whole:
            cached = self.views[key] = (whole, whole.for_domain(name))
        return cached[1]

    def forget(self) -> None:
        """Drop every in-memory domain (partitions were revoked: another worker may own them now)."""
        self.states.clear()
        self.partitions.clear()

    def discard(self, key: str) -> None:
        """Drop one domain after a failed event; the next event rebuilds it from the table."""
        self.states.pop(key, None)

    def _reload(self, state: Domain, key: str) -> list:
        try:
            config = self.config(key, state.tenant)
        except RoutingConfigError as exc:
            log.error("routing file of %s refused, keeping the last good one: %s", key, exc)
            return []
        return reconfigure(state, config) if config is not state.config else []

    def _persist(self, state: Domain, key: str) -> None:
        for entry, kind, body in changes(state, key):
            if body is None:
                self.table.pop(entry, None)
            else:
                self.table[entry] = self.codec.encode(STATE_SUBJECT, {
                    "tenant_id": state.tenant, "kind": kind, "updated_at": state.now,
                    "body": json.dumps(body, separators=(",", ":"))})

    def _check_partition(self, key: str, partition: int | None) -> None:
        # Every producer must partition by murmur2 of the key (Java's and aiokafka's default;
        # librdkafka needs partitioner=murmur2_random) or a domain's events split across workers.
        if partition is None:
            return
        known = self.partitions.setdefault(key, partition)
        if known != partition:
            log.warning("routing domain %s arrived on partitions %d and %d: a producer does not "
                        "use the murmur2 partitioner", key, known, partition)
