"""Routing benchmark (not a test): decisions per second and decision latency of one domain, and of
one tenant split into several routing domains.

5,000 agents (capacity 4, 3 of 10 queues each, random skills) and 10,000 waiting conversations in
one routing domain, on the pure ACD core (no Kafka: the faust hop's cost is in
docs/architecture.md). With `--domains N` the same tenant, agents and load are split into N
routing domains (`domains:`: queue q in domain q mod N, each agent on queues of one domain, each
domain's conversations on its own channel account), each event applied to the domain the
routing sequencer would key it to (`keys.input_keys`), and the time spent in each domain counted
apart: `decisions_per_s` is one core applying them all, `decisions_per_s_parallel` the sum over
domains of each one's decisions/s — what N workers (one partition, one core each) would route.
Phases:

- arrivals: 20,000 conversations arrive while agents have capacity — each is ranked over the
  queue's free eligible agents and offered (then accepted), until every agent is full;
- backlog: 10,000 more arrive and wait (nobody has capacity);
- churn: agents end conversations; each end frees capacity and offers the best waiting
  conversation across the agent's queues (then the offer is accepted).

Run: `.venv/bin/python benchmarks/routing_bench.py [--agents 5000] [--waiting 10000] [--churn 20000]
[--domains 1]`. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.routing.acd import apply_action, apply_request, new_domain  # noqa: E402
from streams.routing.config import RoutingConfig  # noqa: E402
from streams.routing.domain import Domain  # noqa: E402
from streams.routing.keys import ACTIONS, REQUESTS, domain_key, domain_of_key, input_keys  # noqa: E402

T0 = 1_764_000_000_000
QUEUES, SKILLS = 10, 20


def build_config(n_agents: int, rng: random.Random, n_domains: int = 1) -> RoutingConfig:
    """One tenant: 10 queues each needing one skill, agents on 3 queues (of one domain) with random
    proficiency; with several domains, queue q is in domain q mod N with its own channel account."""
    queues = {f"q{i}": {"skills": {f"s{i}": 1}, "acw": {"mode": "optional", "timeout_seconds": 60}}
              for i in range(QUEUES)}
    of_domain = [[q for q in range(QUEUES) if q % n_domains == d] for d in range(n_domains)]
    agents = {}
    for a in range(n_agents):
        mine = rng.sample(of_domain[a % n_domains], min(3, len(of_domain[a % n_domains])))
        skills = {f"s{q}": rng.randint(1, 5) for q in mine} | {f"s{rng.randrange(SKILLS)}": rng.randint(0, 5)}
        agents[f"agent-{a}"] = {"skills": skills, "languages": ["en"], "queues": [f"q{q}" for q in mine]}
    rules = [{"name": f"r{i}", "when": {"keywords": [f"topic{i}"]}, "then": {"queue": f"q{i}"}} for i in range(QUEUES)]
    domains = {f"d{d}": {"queues": [f"q{q}" for q in qs], "channel_accounts": [f"site-{d}"]}
               for d, qs in enumerate(of_domain)} if n_domains > 1 else {}
    return RoutingConfig(tenant="bench", default_queue="q0", queues=queues, agents=agents, rules=rules,
                         domains=domains)


def build_domains(config: RoutingConfig) -> dict[str, Domain]:
    """The tenant's routing domains by key, each with its view of the file (as the router builds them)."""
    if not config.domains:
        return {"bench": new_domain(config, T0)}
    return {domain_key("bench", name): new_domain(config.for_domain(name), T0) for name in config.domains}


class Bench:
    """Drives the domains and times every call that produced an offer, and each domain's busy time."""

    def __init__(self, config: RoutingConfig, rng: random.Random):
        self.config, self.states, self.rng, self.now, self.n = config, build_domains(config), rng, T0, 0
        self.latencies: list[float] = []
        self.busy = dict.fromkeys(self.states, 0.0)
        self.made = dict.fromkeys(self.states, 0)

    def state(self, source: str, record: dict) -> tuple[str, Domain]:
        """The domain the routing sequencer would key this input to."""
        key = (input_keys(self.config, source, record) or ["bench"])[0]
        return key, self.states[key]

    def _timed(self, fn, source, record):
        key, state = self.state(source, record)
        start = time.perf_counter()
        out = fn(state, record)
        elapsed = time.perf_counter() - start
        self.busy[key] += elapsed
        offers = [o.value for o in out if o.subject == "agent-event" and o.value["type"] == "offered"]
        if offers:
            self.latencies.append(elapsed / len(offers))
            self.made[key] += len(offers)
        return offers

    def arrive(self) -> list[dict]:
        """One conversation arrives (on the channel account of its topic's queue's domain)."""
        self.n += 1
        self.now += 1
        q = self.rng.randrange(QUEUES)
        account = f"site-{q % len(self.config.domains)}" if self.config.domains else "site"
        return self._timed(apply_request, REQUESTS, {
            "request_id": f"r{self.n}", "tenant_id": "bench", "conversation_id": f"c{self.n}",
            "thread_key": f"bench:web:{account}:u{self.n}", "channel": "web", "channel_account_id": account,
            "reason": "new_conversation", "requested_at": self.now,
            "first_message_text": f"question about topic{q}", "priority": 0})

    def act(self, agent: str, kind: str, **fields) -> list[dict]:
        """One agent action."""
        self.n += 1
        self.now += 1
        return self._timed(apply_action, ACTIONS, {"action_id": f"a{self.n}", "tenant_id": "bench",
                                                   "agent_id": agent, "type": kind, "occurred_at": self.now,
                                                   **fields})

    def accept(self, offers: list[dict]) -> None:
        """Accept offers (not timed: not a routing decision)."""
        for offer in offers:
            action = {"action_id": f"acc-{offer['offer_id']}", "tenant_id": "bench", "agent_id": offer["agent_id"],
                      "type": "accept", "occurred_at": self.now, "conversation_id": offer["conversation_id"],
                      "offer_id": offer["offer_id"]}
            apply_action(self.state(ACTIONS, action)[1], action)

    def waiting(self) -> int:
        """Conversations waiting in every domain."""
        return sum(len(w) for state in self.states.values() for w in state.waiting.values())

    def agent(self, agent_id: str):
        """An agent's routing state, in whichever domain holds it."""
        return next(s.agents[agent_id] for s in self.states.values() if agent_id in s.agents)


def phase(bench: Bench, name: str, step, count: int) -> dict:
    """Run `step` `count` times; decisions/s and latency of the offers it made (and per domain)."""
    bench.latencies, bench.busy, bench.made = [], dict.fromkeys(bench.states, 0.0), dict.fromkeys(bench.states, 0)
    start = time.perf_counter()
    for _ in range(count):
        bench.accept(step())
    seconds = time.perf_counter() - start
    lat = sorted(bench.latencies) or [0.0]
    per_domain = {domain_of_key(k, "bench") or k: round(bench.made[k] / bench.busy[k]) if bench.busy[k] else 0
                  for k in bench.states}
    return {"phase": name, "events": count, "offers": len(bench.latencies), "seconds": round(seconds, 2),
            "events_per_s": round(count / seconds), "decisions_per_s": round(len(bench.latencies) / seconds),
            "decisions_per_s_by_domain": per_domain, "decisions_per_s_parallel": sum(per_domain.values()),
            "latency_ms_p50": round(statistics.median(lat) * 1000, 3),
            "latency_ms_p99": round(lat[int(len(lat) * 0.99) - 1 if len(lat) > 1 else 0] * 1000, 3),
            "latency_ms_max": round(lat[-1] * 1000, 3)}


def main(argv: list[str] | None = None) -> None:
    """Build the domain, run the three phases, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--waiting", type=int, default=10000)
    parser.add_argument("--churn", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--domains", type=int, default=1, help="routing domains of the tenant (1: none declared)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    bench = Bench(build_config(args.agents, rng, args.domains), rng)
    agents = list(bench.config.agents)
    for agent in agents:
        bench.act(agent, "presence", presence="on_queue")
    capacity = 4 * args.agents
    results = [phase(bench, "arrivals", bench.arrive, capacity)]
    results.append(phase(bench, "backlog", bench.arrive, args.waiting))
    waiting = bench.waiting()

    def churn():
        agent = bench.agent(rng.choice(agents))
        connected = [w for w in agent.work.values() if w.state == "connected"]
        if not connected:
            return bench.arrive()
        return bench.act(agent.agent_id, "end", conversation_id=connected[0].conversation_id)
    results.append(phase(bench, "churn", churn, args.churn))
    print(json.dumps({"agents": args.agents, "domains": args.domains, "waiting_at_churn_start": waiting,
                      "waiting_at_end": bench.waiting(), "phases": results}))


if __name__ == "__main__":
    main()
