"""The simulated agents (connectors/simulators/agents.py) against the real routing worker: they
go on-queue, get offers, accept, reply, end and wrap up — all through topics."""
import asyncio
import time
import uuid

import pytest

from connectors.simulators.agents import run_agents
from switchboard.settings import load_settings

from .broker import Events, Outputs, RoutingWorker
from .drive import request

pytestmark = pytest.mark.kafka


async def test_simulated_agents_take_offers_reply_and_wrap_up(kafka_bootstrap, tmp_path):
    worker = RoutingWorker(kafka_bootstrap, tmp_path).start()
    tenant = worker.add_tenant(f"sim{uuid.uuid4().hex[:8]}")
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, routing_dir=worker.routing_dir)
    outputs, stop = Outputs(kafka_bootstrap, tenant), asyncio.Event()
    try:
        agents = asyncio.create_task(run_agents(settings, 3, stop, tenant=tenant, seed=1, speed=20))
        await asyncio.sleep(1)
        events, now = Events(kafka_bootstrap), int(time.time() * 1000)
        for i in range(4):
            events.request(request(f"c{i}", now + i, tenant))
        await asyncio.to_thread(outputs.wait_for, lambda r: min(len(outputs.of("segment-fact", "wrapup")),
                                                                len(outputs.of("assignment", "ended"))) >= 4, 30)
        stop.set()
        counts = await agents
    finally:
        stop.set()
        worker.stop()
        outputs.close()
    assert counts["offers"] >= 4 and counts["accepted"] >= 4 and counts["wrapped_up"] >= 4
    assert counts["replies"] >= 4
    assert len(outputs.of("assignment", "ended")) >= 4
