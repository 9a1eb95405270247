"""Routing benchmark (not a test): decisions per second and decision latency of one domain.

5,000 agents (capacity 4, 3 of 10 queues each, random skills) and 10,000 waiting conversations in
one routing domain, on the pure ACD core (no Kafka: the faust hop's cost is in
docs/architecture.md). Phases:

- arrivals: 20,000 conversations arrive while agents have capacity — each is ranked over the
  queue's free eligible agents and offered (then accepted), until every agent is full;
- backlog: 10,000 more arrive and wait (nobody has capacity);
- churn: agents end conversations; each end frees capacity and offers the best waiting
  conversation across the agent's queues (then the offer is accepted).

Run: `.venv/bin/python benchmarks/routing_bench.py [--agents 5000] [--waiting 10000] [--churn 20000]`
Prints one JSON line.
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

T0 = 1_764_000_000_000
QUEUES, SKILLS = 10, 20


def build_config(n_agents: int, rng: random.Random) -> RoutingConfig:
    """One tenant: 10 queues each needing one skill, agents on 3 queues with random proficiency."""
    queues = {f"q{i}": {"skills": {f"s{i}": 1}, "acw": {"mode": "optional", "timeout_seconds": 60}}
              for i in range(QUEUES)}
    agents = {}
    for a in range(n_agents):
        mine = rng.sample(range(QUEUES), 3)
        skills = {f"s{q}": rng.randint(1, 5) for q in mine} | {f"s{rng.randrange(SKILLS)}": rng.randint(0, 5)}
        agents[f"agent-{a}"] = {"skills": skills, "languages": ["en"], "queues": [f"q{q}" for q in mine]}
    rules = [{"name": f"r{i}", "when": {"keywords": [f"topic{i}"]}, "then": {"queue": f"q{i}"}} for i in range(QUEUES)]
    return RoutingConfig(tenant="bench", default_queue="q0", queues=queues, agents=agents, rules=rules)


class Bench:
    """Drives the domain and times every call that produced an offer."""

    def __init__(self, state: Domain, rng: random.Random):
        self.state, self.rng, self.now, self.n = state, rng, T0, 0
        self.latencies: list[float] = []

    def _timed(self, fn, record):
        start = time.perf_counter()
        out = fn(self.state, record)
        elapsed = time.perf_counter() - start
        offers = [o.value for o in out if o.subject == "agent-event" and o.value["type"] == "offered"]
        if offers:
            self.latencies.append(elapsed / len(offers))
        return offers

    def arrive(self) -> list[dict]:
        """One conversation arrives."""
        self.n += 1
        self.now += 1
        q = self.rng.randrange(QUEUES)
        return self._timed(apply_request, {
            "request_id": f"r{self.n}", "tenant_id": "bench", "conversation_id": f"c{self.n}",
            "thread_key": f"bench:web:site:u{self.n}", "channel": "web", "channel_account_id": "site",
            "reason": "new_conversation", "requested_at": self.now,
            "first_message_text": f"question about topic{q}", "priority": 0})

    def act(self, agent: str, kind: str, **fields) -> list[dict]:
        """One agent action."""
        self.n += 1
        self.now += 1
        return self._timed(apply_action, {"action_id": f"a{self.n}", "tenant_id": "bench",
                                          "agent_id": agent, "type": kind, "occurred_at": self.now,
                                          **fields})

    def accept(self, offers: list[dict]) -> None:
        """Accept offers (not timed: not a routing decision)."""
        for offer in offers:
            apply_action(self.state, {"action_id": f"acc-{offer['offer_id']}", "tenant_id": "bench",
                                      "agent_id": offer["agent_id"], "type": "accept", "occurred_at": self.now,
                                      "conversation_id": offer["conversation_id"], "offer_id": offer["offer_id"]})


def phase(bench: Bench, name: str, step, count: int) -> dict:
    """Run `step` `count` times; decisions/s and latency of the offers it made."""
    bench.latencies = []
    start = time.perf_counter()
    for _ in range(count):
        bench.accept(step())
    seconds = time.perf_counter() - start
    lat = sorted(bench.latencies) or [0.0]
    return {"phase": name, "events": count, "offers": len(bench.latencies), "seconds": round(seconds, 2),
            "events_per_s": round(count / seconds), "decisions_per_s": round(len(bench.latencies) / seconds),
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
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    state = new_domain(build_config(args.agents, rng), T0)
    bench = Bench(state, rng)
    agents = list(state.config.agents)
    for agent in agents:
        bench.act(agent, "presence", presence="on_queue")
    capacity = 4 * args.agents
    results = [phase(bench, "arrivals", bench.arrive, capacity)]
    results.append(phase(bench, "backlog", bench.arrive, args.waiting))
    waiting = sum(len(w) for w in state.waiting.values())

    def churn():
        agent = state.agents[rng.choice(agents)]
        connected = [w for w in agent.work.values() if w.state == "connected"]
        if not connected:
            return bench.arrive()
        return bench.act(agent.agent_id, "end", conversation_id=connected[0].conversation_id)
    results.append(phase(bench, "churn", churn, args.churn))
    print(json.dumps({"agents": args.agents, "waiting_at_churn_start": waiting,
                      "waiting_at_end": sum(len(w) for w in state.waiting.values()), "phases": results}))


if __name__ == "__main__":
    main()
