"""A simulated telephony platform: it puts the demo's simulated agents on voice calls (`work-events`).

The example producer of docs/routing.md "Blending with other media": every so often (seeded) one
of the simulated agents who is not already on a call takes a call the platform connected itself
(`started`, media `voice`), and hangs up after a realistic duration (`ended`). Routing counts the
call in the agent's capacity, so the tenant's `utilization` decides whether they are offered
messaging meanwhile (deploy/routing/acme.yaml: not while on a call). `run_telephony` returns counts.
"""
from __future__ import annotations

import asyncio
import random
import time
import uuid

from schemas import Codec, topic
from switchboard.kafka import producer
from switchboard.settings import Settings

SOURCE = "telephony-sim"
CALL_EVERY_SECONDS = (20.0, 40.0)   # between two calls of the platform
CALL_SECONDS = (15.0, 45.0)         # how long a call lasts


class Telephony:
    """Calls of the simulated platform on some agents of one tenant, and what it sent."""

    def __init__(self, settings: Settings, tenant: str, agent_ids: list[str], seed: int):
        self.tenant, self.agent_ids, self.rng = tenant, sorted(agent_ids), random.Random(seed)
        self.codec = Codec.from_settings(settings)
        self.producer = producer(settings.kafka_client_config(), partitioner="murmur2_random")  # as routing's inputs
        self.on_call: dict[str, str] = {}   # agent id -> call id
        self.counts = {"calls_started": 0, "calls_ended": 0}

    def send(self, kind: str, call_id: str, agent_id: str) -> None:
        """Produce one work-event keyed by the routing domain (tenant)."""
        record = {"event_id": f"{call_id}:{kind}", "tenant_id": self.tenant, "type": kind, "work_id": call_id,
                  "media": "voice", "source": SOURCE, "agent_id": agent_id, "occurred_at": int(time.time() * 1000)}
        self.producer.produce(topic("work-events").name, key=self.tenant.encode(),
                              value=self.codec.encode("work-event", record))
        self.producer.poll(0)
        self.counts[f"calls_{kind}"] += 1

    def start_call(self) -> str | None:
        """A call for a free agent (None if every agent is on one): the call id."""
        free = [a for a in self.agent_ids if a not in self.on_call]
        if not free:
            return None
        agent_id, call_id = self.rng.choice(free), f"call-{uuid.uuid4().hex[:12]}"
        self.on_call[agent_id] = call_id
        self.send("started", call_id, agent_id)
        return agent_id

    def end_call(self, agent_id: str) -> None:
        """The agent's call is over."""
        if agent_id in self.on_call:
            self.send("ended", self.on_call.pop(agent_id), agent_id)


async def run_telephony(settings: Settings, agent_ids: list[str], stop_event: asyncio.Event, *,
                        tenant: str = "acme", seed: int = 7) -> dict:
    """Put agents on calls until `stop_event` is set (every open call is ended then); the counts."""
    phone = Telephony(settings, tenant, agent_ids, seed)
    hang_ups: set[asyncio.Task] = set()

    async def hang_up(agent_id: str, after: float) -> None:
        await asyncio.sleep(after)
        phone.end_call(agent_id)
    try:
        while not stop_event.is_set():
            try:
                await asyncio.wait_for(stop_event.wait(), phone.rng.uniform(*CALL_EVERY_SECONDS))
            except asyncio.TimeoutError:
                if (agent_id := phone.start_call()) is not None:
                    task = asyncio.get_running_loop().create_task(hang_up(agent_id, phone.rng.uniform(*CALL_SECONDS)))
                    hang_ups.add(task)
                    task.add_done_callback(hang_ups.discard)
    finally:
        for task in list(hang_ups):
            task.cancel()
        for agent_id in list(phone.on_call):
            phone.end_call(agent_id)
        phone.producer.flush(10)
    return phone.counts
