"""Simulated agents: a load scenario that acts only through topics, like a real agent desktop.

N agents from the tenant's routing file go on-queue (`agent-actions`), read their
`agent-notifications`, accept offers after a realistic, seeded random delay, answer with one to
three replies (`outbound-messages`, keyed by the thread key the offer carries), end the
conversation and wrap up with one of the queue's codes. A `not_responding` agent goes back
on-queue after a pause. `run_agents` returns counts; `main` prints them as one JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid

import yaml
from confluent_kafka import TopicPartition

from schemas import Codec, topic
from switchboard.kafka import consumer, producer
from switchboard.settings import Settings, load_settings

REPLIES = ["Thanks for writing, let me check that for you.", "I have blocked the card and ordered a new one.",
           "Is there anything else I can help you with?", "Your refund is on its way."]


class AgentDesk:
    """The simulated agents of one tenant and what they did."""

    def __init__(self, settings: Settings, tenant: str, agent_ids: list[str], seed: int, speed: float):
        self.tenant, self.agent_ids, self.speed = tenant, set(agent_ids), speed
        self.rng, self.codec = random.Random(seed), Codec.from_settings(settings)
        # murmur2: the same partition for a tenant as faust (aiokafka) and Java producers choose.
        self.producer = producer(settings.kafka_client_config(), partitioner="murmur2_random")
        self.counts = {"agents": len(agent_ids), "offers": 0, "accepted": 0, "replies": 0, "ended": 0,
                       "wrapped_up": 0, "not_responding": 0}
        self.tasks: set[asyncio.Task] = set()

    def act(self, agent_id: str, kind: str, **fields) -> None:
        """Produce an agent action keyed by the routing domain (tenant)."""
        record = {"action_id": f"sim-{uuid.uuid4().hex}", "tenant_id": self.tenant, "agent_id": agent_id,
                  "type": kind, "occurred_at": int(time.time() * 1000), **fields}
        self.producer.produce(topic("agent-actions").name, key=self.tenant.encode(),
                              value=self.codec.encode("agent-action", record))
        self.producer.poll(0)

    def reply(self, event: dict) -> None:
        """Produce one outbound reply to the customer of an assigned conversation."""
        thread_key = event.get("thread_key") or ""
        record = {"outbound_id": f"sim-out-{uuid.uuid4().hex}", "tenant_id": self.tenant,
                  "conversation_id": event["conversation_id"], "thread_key": thread_key,
                  "channel": event["channel"], "channel_account_id": event.get("channel_account_id") or "",
                  "recipient_id": thread_key.split(":", 3)[-1], "agent_id": event["agent_id"], "kind": "reply",
                  "created_at": int(time.time() * 1000),
                  "content": [{"type": "text", "text": self.rng.choice(REPLIES)}]}
        self.producer.produce(topic("outbound-messages").name, key=thread_key.encode(),
                              value=self.codec.encode("outbound-message", record))
        self.counts["replies"] += 1

    def on_event(self, event: dict) -> None:
        """React to one notification of one of our agents."""
        kind = event["type"]
        if kind == "offered":
            self.counts["offers"] += 1
            self._later(self.rng.uniform(1, 5), self._accept, event)
        elif kind == "assigned":
            self._later(self.rng.uniform(2, 6), self._converse, event, self.rng.randint(1, 3))
        elif kind == "wrapup_required":
            codes = event.get("wrapup_codes") or ["resolved"]
            self._later(self.rng.uniform(1, 4), self._wrap_up, event, self.rng.choice(codes))
        elif kind == "not_responding":
            self.counts["not_responding"] += 1
            self._later(self.rng.uniform(5, 10), self.act, event["agent_id"], "presence", presence="on_queue")

    def _accept(self, event: dict) -> None:
        self.act(event["agent_id"], "accept", conversation_id=event["conversation_id"], offer_id=event["offer_id"])
        self.counts["accepted"] += 1

    def _converse(self, event: dict, replies_left: int) -> None:
        self.reply(event)
        if replies_left > 1:
            return self._later(self.rng.uniform(2, 6), self._converse, event, replies_left - 1)
        self.act(event["agent_id"], "end", conversation_id=event["conversation_id"])
        self.counts["ended"] += 1

    def _wrap_up(self, event: dict, code: str) -> None:
        self.act(event["agent_id"], "wrap_up", conversation_id=event["conversation_id"], wrapup_code=code)
        self.counts["wrapped_up"] += 1

    def _later(self, seconds: float, fn, *args, **kwargs) -> None:
        async def run():
            await asyncio.sleep(seconds / self.speed)
            fn(*args, **kwargs)
        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def agent_ids(settings: Settings, tenant: str, n_agents: int) -> list[str]:
    """The first `n_agents` agents of the tenant's routing file (only they are routable)."""
    data = yaml.safe_load((settings.routing_dir / f"{tenant}.yaml").read_text())
    return list(data.get("agents", {}))[:n_agents]


def _notifications(settings: Settings, since_ms: int):
    """A consumer of agent-notifications positioned at `since_ms` (nothing before our start)."""
    name = topic("agent-notifications")
    c = consumer(settings.kafka_client_config(), f"sim-agents-{uuid.uuid4().hex[:8]}")
    wanted = [TopicPartition(name.name, p, since_ms) for p in range(name.partitions)]
    c.assign(c.offsets_for_times(wanted, timeout=10))
    return c


async def run_agents(settings: Settings, n_agents: int, stop_event: asyncio.Event, *, tenant: str = "acme",
                     seed: int = 7, speed: float = 1.0) -> dict:
    """Run N simulated agents until `stop_event` is set; the counts of what they did."""
    desk = AgentDesk(settings, tenant, agent_ids(settings, tenant, n_agents), seed, speed)
    notifications = _notifications(settings, int(time.time() * 1000) - 1000)
    for agent_id in sorted(desk.agent_ids):
        desk.act(agent_id, "presence", presence="on_queue")
    try:
        while not stop_event.is_set():
            message = await asyncio.to_thread(notifications.poll, 0.2)
            if message is None or message.error():
                continue
            event = desk.codec.decode(message.value(), "agent-event")
            if event["tenant_id"] == tenant and event["agent_id"] in desk.agent_ids:
                desk.on_event(event)
    finally:
        for agent_id in sorted(desk.agent_ids):
            desk.act(agent_id, "presence", presence="offline")
        for task in list(desk.tasks):
            task.cancel()
        desk.producer.flush(10)
        notifications.close()
    return desk.counts


def main(argv: list[str] | None = None) -> int:
    """`python -m connectors.simulators.agents --agents N [--seconds S]`: run, then print the counts."""
    parser = argparse.ArgumentParser(prog="switchboard simulate agents", description=__doc__)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed", type=float, default=1.0, help="divide every delay by this")
    args = parser.parse_args(argv)

    async def run() -> dict:
        stop = asyncio.Event()
        if args.seconds:
            asyncio.get_running_loop().call_later(args.seconds, stop.set)
        return await run_agents(load_settings(), args.agents, stop, tenant=args.tenant, seed=args.seed,
                                speed=args.speed)
    try:
        print(json.dumps(asyncio.run(run())))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
