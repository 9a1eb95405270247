"""The pipeline benchmark's customers: signed webhooks made by the platform simulators, posted to the
edge at a fixed rate or as fast as `concurrency` requests in flight allow.

`CustomerScenario` (connectors/simulators/scenario.py) makes the requests: every channel account of
the demo (Messenger, WhatsApp, LINE, X, Open Messaging; web chats over the guest socket are not
part of it), a pool of customers with a few regulars and many occasional ones (new and returning
threads), the simulators' mix of content types, batches (2–4 events in one request) and
redeliveries (the same event again 50–500 ms later; LINE re-signed with isRedelivery). Each
request's first post time is kept under every id string of its payload, so a message id read
back from a topic finds the moment its webhook left.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import aiohttp

from connectors.simulators.scenario import CustomerScenario
from connectors.simulators.simulator import Simulator
from switchboard.accounts import load_accounts


@dataclass
class Sent:
    """What was posted in one phase: first post time per id string, edge answer latencies, statuses."""

    posted_at: dict[str, float] = field(default_factory=dict)
    acked_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    requests: int = 0
    redeliveries: int = 0
    messages: int = 0


def _strings(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        for value in node.values():
            _strings(value, found)
    elif isinstance(node, list):
        for value in node:
            _strings(value, found)
    elif isinstance(node, str) and len(node) >= 8:
        found.append(node)
    return found


class Customers:
    """The simulated customers of every demo account, deterministic for a seed."""

    def __init__(self, accounts_file, edge_url: str, *, customers: int, seed: int):
        self.sim = Simulator(list(load_accounts(accounts_file)), edge_url, seed=seed, pool_size=customers)
        self.scenario = CustomerScenario(self.sim, seed=seed, batch_probability=0.08, redelivery_probability=0.02)
        self.rng = random.Random(seed)

    def make(self, n: int) -> list[tuple]:
        """The next `n` requests: (platform, webhook, redelivered, message count)."""
        made = []
        for _ in range(n):
            platform, hook, again = self.scenario.next_webhook()
            made.append((platform, hook, again, _messages(hook.payload)))
        return made

    async def post(self, url_of, requests: list[tuple], rate: float | None, concurrency: int,
                   progress=None) -> Sent:
        """Post every request, at `rate` per second (None: as fast as `concurrency` allows)."""
        sent, slots = Sent(), asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            async def one(hook, first: bool) -> None:   # holds one of the slots, released here
                try:
                    started = time.time()
                    if first:
                        for s in _strings(hook.payload, []):
                            sent.posted_at.setdefault(s, started)
                    async with session.post(url_of(hook), data=hook.body, headers=hook.headers) as answer:
                        await answer.read()
                    sent.statuses[answer.status] = sent.statuses.get(answer.status, 0) + 1
                    if first:
                        sent.acked_ms.append((time.time() - started) * 1000)
                finally:
                    slots.release()

            async def again(platform, hook) -> None:
                await asyncio.sleep(self.rng.uniform(0.05, 0.5))
                await slots.acquire()
                sent.redeliveries += 1
                await one(platform.redelivered(hook), False)

            tasks, began = [], time.monotonic()
            for n, (platform, hook, redelivered, messages) in enumerate(requests):
                if rate:
                    delay = began + n / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await slots.acquire()
                tasks.append(asyncio.ensure_future(one(hook, True)))
                if redelivered:
                    tasks.append(asyncio.ensure_future(again(platform, hook)))
                sent.requests += 1
                sent.messages += messages
                if progress is not None:
                    progress(sent)
            await asyncio.gather(*tasks)
        return sent


def _messages(payload) -> int:
    """Customer events in one request (batches carry several)."""
    if isinstance(payload, list):
        return len(payload)
    if payload.get("object") == "whatsapp_business_account":
        return sum(len(c["value"].get("messages", [])) for e in payload["entry"] for c in e["changes"])
    if payload.get("object") == "page":
        return sum(len(e.get("messaging", [])) for e in payload["entry"])
    return len(payload.get("events") or payload.get("direct_message_events") or [payload])
