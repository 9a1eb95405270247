"""Routing domains: one tenant's queues (and the agents on them) split over partitions.

A tenant's routing file may declare `domains:` — sets of queues, with the channel accounts whose
conversations start there. Each domain is routed under its own key (`<tenant>/<domain>`,
`keys.py`), so by its own partition and worker, while the tenant stays one tenant for identity,
configuration and reports (routing's records keep `tenant_id`). The file is checked here: every
queue in exactly one domain, an agent's queues in one domain (one partition owns the agent's
capacity), an account in at most one. `RoutingConfig.for_domain` is the view one domain routes with.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .config import RoutingConfig


class RoutingDomain(BaseModel):
    """A set of queues (and the agents on them) routed by one partition: `domains:` of a routing file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queues: tuple[str, ...] = Field(min_length=1)
    channel_accounts: tuple[str, ...] = ()  # conversations of these accounts start here
    default_queue: str | None = None  # None: the file's default queue if it is here, else the first


class DomainIndex(BaseModel):
    """Which routing domain each queue, agent and channel account belongs to (`domains:` of a file)."""

    default: str
    queues: dict[str, str]
    agents: dict[str, str]
    accounts: dict[str, str]


DOMAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def domain_problems(config: RoutingConfig) -> list[str]:
    """Every queue in exactly one domain; an agent's queues in one domain; an account in one domain."""
    if not config.domains:
        return []
    problems = [f"routing domain name {n!r}: letters, digits, _ and - only (it ends a partition key)"
                for n in config.domains if not DOMAIN_NAME.fullmatch(n)]
    where: dict[str, list[str]] = {}
    for name, domain in config.domains.items():
        for queue in domain.queues:
            where.setdefault(queue, []).append(name)
    problems += [f"routing domain {n!r} names unknown queue {q!r}" for q, names in where.items()
                if q not in config.queues for n in names]
    problems += [f"queue {q!r} is in routing domains {' and '.join(names)}: a queue is in one domain"
                 for q, names in where.items() if len(names) > 1]
    problems += [f"queue {q!r} is in no routing domain: add it to the queues of one of {', '.join(config.domains)}"
                 for q in config.queues if q not in where]
    problems += [f"routing domain {n!r}: default_queue {d.default_queue!r} is not one of its queues"
                 for n, d in config.domains.items() if d.default_queue and d.default_queue not in d.queues]
    problems += [f"queue {q!r} flows out to {queue.flow_out.queue!r} in another routing domain: a conversation "
                 "leaves its domain only by a transfer, so flow out to a queue of the same domain"
                 for q, queue in config.queues.items() if queue.flow_out and q in where
                 and queue.flow_out.queue in where and where[q][0] != where[queue.flow_out.queue][0]]
    accounts: dict[str, list[str]] = {}
    for name, domain in config.domains.items():
        for account in domain.channel_accounts:
            accounts.setdefault(account, []).append(name)
    problems += [f"channel account {a!r} is in routing domains {' and '.join(names)}: an account starts "
                 "its conversations in one domain" for a, names in accounts.items() if len(names) > 1]
    for agent_id, agent in config.agents.items():
        spans = sorted({where[q][0] for q in agent.queues if q in where})
        if len(spans) > 1:
            problems.append(f"agent {agent_id!r} is on queues of routing domains {' and '.join(spans)}: an agent "
                            "belongs to one domain (one partition owns their capacity), so give them the "
                            "queues of one domain")
    return problems


def domain_index(config: RoutingConfig) -> DomainIndex:
    """Each queue, agent (by their queues, else the default domain) and account, to its domain."""
    queues = {q: name for name, domain in config.domains.items() for q in domain.queues}
    default = queues[config.default_queue]
    agents = {a: (queues[p.queues[0]] if p.queues else default) for a, p in config.agents.items()}
    accounts = {a: name for name, domain in config.domains.items() for a in domain.channel_accounts}
    return DomainIndex(default=default, queues=queues, agents=agents, accounts=accounts)
