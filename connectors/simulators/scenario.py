"""Simulated customers: who writes, on which channel, what, and how the platforms deliver it
(batches, redeliveries), at a steady overall rate. Later scenarios (agents) plug in beside it."""
from __future__ import annotations

import asyncio
import random

from .base import Platform, Webhook
from .customers import compose


class CustomerScenario:
    """Customers writing on every configured account, deterministic for a seed."""

    def __init__(self, sim, *, rate: float = 2.0, seed: int = 0, batch_probability: float = 0.08,
                 redelivery_probability: float = 0.05):
        self.sim = sim
        self.rate = rate
        self.rng = random.Random(f"scenario:{seed}")
        self.batch_probability = batch_probability
        self.redelivery_probability = redelivery_probability
        self.verified: list[tuple[Platform, object]] = []

    def targets(self) -> list[tuple[Platform, object]]:
        """Every (platform, account) pair customers can write to."""
        return [(self.sim.platforms[a.channel], a) for a in self.sim.accounts]

    def next_webhook(self, targets=None) -> tuple[Platform, Webhook, bool]:
        """The next customer request: (platform, signed webhook, whether it will be redelivered)."""
        platform, account = self.rng.choice(targets or self.targets())
        people = [c for c in self.sim.pool if platform.channel in c.channels] or self.sim.pool
        weights = [1 / (i + 1) for i in range(len(people))]  # a few regulars, many occasional customers
        size = self.rng.randint(2, 4) if self.rng.random() < self.batch_probability else 1
        now_ms = self.sim.state.clock.now_ms()
        events = []
        for i in range(size):
            customer = self.rng.choices(people, weights)[0]
            kind = self.rng.choices(list(platform.kinds), list(platform.kinds.values()))[0]
            if kind == "email" and not customer.email:
                kind = "text"
            events.append(platform.event(account, customer, compose(self.rng, customer, kind), now_ms + i * 431))
        platform.customers_wrote(account, events, now_ms / 1000)
        hook = platform.webhook(account, platform.envelope(account, events))
        return platform, hook, self.rng.random() < self.redelivery_probability

    async def run(self, stop: asyncio.Event) -> None:
        """Verify every webhook URL as its platform would, then send until `stop` is set."""
        for platform, account in self.targets():
            self.sim.spawn(self._verify(platform, account, stop))
        while not stop.is_set():
            if self.verified:
                platform, hook, again = self.next_webhook(self.verified)
                self.sim.spawn(self._deliver(platform, hook, again))
            delay = self.rng.expovariate(self.rate) if self.verified else 0.2
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _deliver(self, platform: Platform, hook: Webhook, again: bool) -> None:
        await platform.deliver(hook)
        if again:  # the platform did not see our answer and delivers the same event again
            await asyncio.sleep(self.rng.uniform(0.05, 0.5))
            await platform.deliver(platform.redelivered(hook))

    async def _verify(self, platform: Platform, account, stop: asyncio.Event) -> None:
        """Retry the platform's URL check until the edge passes it (it may start after us)."""
        delay = 0.2
        while not stop.is_set():
            ok = await platform.handshake(self.sim.client, account)
            self.sim.state.stats.handshakes[f"{platform.channel}/{account.account_id}"] = ok
            if ok:
                self.verified.append((platform, account))
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
