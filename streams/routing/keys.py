"""Routing keys: which routing domain (and so which partition of routing-inputs) an input belongs to.

The producers key routing's inputs by tenant. A tenant without `domains:` is one routing domain
keyed by its tenant id, exactly as before: its inputs keep their key and partition. A tenant with
domains (`domains.py`) is routed under one key per domain, `<tenant>/<domain>` (`/`: tenant ids
and domain names hold no `/`, and the state keys after it are `:`-separated), and the routing
sequencer re-keys each input when it appends it to routing-inputs:

| input | its domain |
|---|---|
| routing-request | the domain of its channel account, else the tenant's default domain (the one holding `default_queue`); a conversation moved by a transfer is forwarded by the domain it left (`moves.py`) |
| agent-action | the agent's domain (the domain of their queues; no queue: the default domain) |
| routing-tick | every domain: one tick per domain |
| work-event | started / ended: the agent's domain; requested / cancelled: the domain of its `queue_id`, else the agent's, else the default |

The partition is murmur2 of the key, as every producer of routing's inputs partitions
(`streams.sequencer.partition_of`), so a domain's inputs, state and changelog share one partition.
"""
from __future__ import annotations

from schemas import topic

from .config import RoutingConfig

SEPARATOR = "/"
REQUESTS, ACTIONS, TICKS, WORK = (topic(n).name for n in ("routing-requests", "agent-actions", "routing-ticks",
                                                          "work-events"))


def domain_key(tenant: str, domain: str | None = None) -> str:
    """The key a routing domain is routed under (the tenant id for a tenant of one domain)."""
    return tenant if domain is None else f"{tenant}{SEPARATOR}{domain}"


def domain_of_key(key: str, tenant: str) -> str | None:
    """The domain a routing key of `tenant` names (None: the tenant's single domain)."""
    if key == tenant:
        return None
    if not key.startswith(tenant + SEPARATOR):
        raise ValueError(f"routing key {key!r} is not one of tenant {tenant!r}")
    return key[len(tenant) + 1:]


def domain_keys(config: RoutingConfig) -> list[str]:
    """Every routing key of the tenant (the tenant id alone when it has no domains)."""
    return [domain_key(config.tenant, name) for name in config.domains] or [config.tenant]


def input_keys(config: RoutingConfig, source: str, record: dict) -> list[str] | None:
    """The routing keys one input goes to (see the module's table); None: unchanged (no domains)."""
    index = config.index
    if index is None:
        return None
    if source == TICKS:
        return domain_keys(config)
    if source == REQUESTS:
        name = index.accounts.get(record.get("channel_account_id") or "", index.default)
    elif source == ACTIONS:
        name = index.agents.get(record.get("agent_id") or "", index.default)
    elif source == WORK and record.get("type") in ("requested", "cancelled") and record.get("queue_id") in index.queues:
        name = index.queues[record["queue_id"]]
    else:
        name = index.agents.get(record.get("agent_id") or "", index.default)
    return [domain_key(config.tenant, name)]


def target_domain(config: RoutingConfig, queue_id: str | None, agent_id: str | None) -> str | None:
    """The other domain a transfer's target is in (the queue's, else the agent's); None: this one."""
    index, here = config.index, config.domain
    if index is None or here is None:
        return None
    there = index.queues.get(queue_id) if queue_id else index.agents.get(agent_id or "")
    return there if there and there != here else None
