"""Simulated customers: who writes, on which channel, what, and how the platforms deliver it
(batches, redeliveries), at a steady overall rate; and once per run the channel policy's cases
(`PolicyScenario`). The simulated agents (agents.py) plug in beside them."""
from __future__ import annotations

import asyncio
import itertools
import logging
import random
import uuid

import aiohttp

from .base import Platform, Webhook
from .customers import compose

log = logging.getLogger("switchboard.simulate")


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
        self._people: dict[str, tuple[list, list[float]]] = {}

    def targets(self) -> list[tuple[Platform, object]]:
        """Every (platform, account) pair customers can write to."""
        return [(self.sim.platforms[a.channel], a) for a in self.sim.accounts]

    def _customers(self, channel: str) -> tuple[list, list[float]]:
        """The channel's customers and their cumulative weights (a few regulars, many occasional
        customers), computed once: the pool is fixed, and rebuilding them cost 1.5 ms a request for
        2,000 customers (the pipeline benchmark's load)."""
        if channel not in self._people:
            people = [c for c in self.sim.pool if channel in c.channels] or self.sim.pool
            self._people[channel] = people, list(itertools.accumulate(1 / (i + 1) for i in range(len(people))))
        return self._people[channel]

    def next_webhook(self, targets=None) -> tuple[Platform, Webhook, bool]:
        """The next customer request: (platform, signed webhook, whether it will be redelivered)."""
        platform, account = self.rng.choice(targets or self.targets())
        people, weights = self._customers(platform.channel)
        size = self.rng.randint(2, 4) if self.rng.random() < self.batch_probability else 1
        now_ms = self.sim.state.clock.now_ms()
        events = []
        for i in range(size):
            customer = self.rng.choices(people, cum_weights=weights)[0]
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


class PolicyScenario:
    """Once per run, what the channel policy must approve, replace, hold or refuse (issue 12), on four
    channels: X — a sticker sent as its emoji, five replies to one DM and a 6th and 7th refused
    (`limit.x_replies_per_inbound`); LINE — a reply on the token, then a push; Messenger — a reply 25 h
    after the customer wrote, refused (`window.messenger`); WhatsApp — an opt-in recorded through
    `POST /api/v1/consents`, a template through `POST /api/v1/notifications` to that customer (approved)
    and one to a customer without opt-in (refused). Replies come from the tenant's system sender
    straight to `outbound-messages`, as the simulated agents' do; the APIs are signed in as the demo
    supervisor. What happened is in `counts` (what was asked; the verdicts are in the run's summary)."""

    REPLIES = ("Thanks, checking now.", "Your card is blocked.", "A new one is on its way.",
               "It should arrive in 3-5 days.", "Anything else?", "One more thing...", "And another.")

    def __init__(self, sim, customers: CustomerScenario, *, edge_url: str, kafka: dict, supervisor: tuple,
                 codec, sender: str = "system:notifications", settle: float = 4.0):
        from switchboard.kafka import producer

        self.sim, self.customers, self.edge_url = sim, customers, edge_url.rstrip("/")
        self.supervisor, self.sender, self.settle = supervisor, sender, settle   # (tenant, username, password)
        # The role's codec (Confluent framing when a registry is configured), as the simulated agents'.
        self.codec, self.producer = codec, producer(kafka, partitioner="murmur2_random")
        self.counts = {"x_replies": 0, "line_replies": 0, "messenger_late": 0, "consents": 0, "notifications": 0}

    async def run(self, stop: asyncio.Event) -> None:
        """Wait until the customers' webhooks pass, then play every channel's steps once."""
        while not stop.is_set() and len(self.customers.verified) < len(self.customers.targets()):
            await asyncio.sleep(0.5)
        steps = (self._x, self._line, self._messenger, self._whatsapp)
        for step, outcome in zip(steps, await asyncio.gather(*(step() for step in steps), return_exceptions=True)):
            if isinstance(outcome, Exception):   # one channel's case failing leaves the others' standing
                log.warning("policy scenario %s: %s", step.__name__, outcome)
        await asyncio.to_thread(self.producer.flush, 10)

    def _person(self, channel: str, n: int = 0):
        return [c for c in self.sim.pool if channel in c.channels][n]

    async def _customer_writes(self, channel: str, customer, ago_ms: int = 0):
        """The customer's text message as the platform delivers it (`ago_ms` before now, by its clock)."""
        platform, account = self.sim.platforms[channel], self.sim.account(channel)
        at = self.sim.state.clock.now_ms() - ago_ms
        event = platform.event(account, customer, compose(self.customers.rng, customer, "text"), at)
        platform.customers_wrote(account, [event], at / 1000)
        await platform.deliver(platform.webhook(account, platform.envelope(account, [event])))
        await asyncio.sleep(self.settle)   # the thread stage has the inbound before our replies
        return account

    def _reply(self, account, customer, content: list[dict]) -> None:
        """A system sender's reply on the customer's thread (no conversation named: the open one)."""
        recipient = customer.id_on(account.channel)
        key = f"{account.tenant_id}:{account.channel}:{account.account_id}:{recipient}"
        record = {"outbound_id": f"sim-policy-{uuid.uuid4().hex}", "tenant_id": account.tenant_id,
                  "conversation_id": None, "thread_key": key, "channel": account.channel,
                  "channel_account_id": account.account_id, "recipient_id": recipient, "agent_id": self.sender,
                  "kind": "reply", "created_at": self.sim.state.clock.now_ms(), "content": content}
        self.producer.produce("outbound-messages", key=key.encode(), value=self.codec.encode("outbound-message", record))

    async def _x(self) -> None:
        customer = self._person("x")
        account = await self._customer_writes("x", customer)
        self._reply(account, customer, [{"type": "sticker", "text": "👋"}])   # X has no stickers: its emoji
        for text in self.REPLIES[:6]:   # 2nd-5th approved, 6th and 7th refused (5 per inbound DM)
            self._reply(account, customer, [{"type": "text", "text": text}])
            self.counts["x_replies"] += 1
            await asyncio.sleep(0.2)

    async def _line(self) -> None:
        customer = self._person("line")
        account = await self._customer_writes("line", customer)
        for text in self.REPLIES[:2]:   # the first takes the reply token, the second is a push
            self._reply(account, customer, [{"type": "text", "text": text}])
            self.counts["line_replies"] += 1

    async def _messenger(self) -> None:
        customer = self._person("messenger")
        account = await self._customer_writes("messenger", customer, ago_ms=25 * 3600 * 1000)
        self._reply(account, customer, [{"type": "text", "text": self.REPLIES[0]}])
        self.counts["messenger_late"] += 1

    async def _whatsapp(self) -> None:
        account = self.sim.account("whatsapp")
        opted_in, never_asked = self._person("whatsapp", 0), self._person("whatsapp", 1)
        async with aiohttp.ClientSession() as http:
            headers = await self._sign_in(http)
            target = {"channel": "whatsapp", "channel_account_id": account.account_id}
            await self._post(http, "/api/v1/consents", headers, target | {
                "recipient_id": opted_in.phone, "action": "opt_in", "source": "web_form"}, "consents")
            await asyncio.sleep(self.settle)   # applied before the template that needs it
            for customer in (opted_in, never_asked):
                await self._post(http, "/api/v1/notifications", headers, target | {
                    "recipient_id": customer.phone,
                    "template": {"name": "order_update", "language": "en_US", "parameters": ["A-1042"]}}, "notifications")

    async def _sign_in(self, http) -> dict:
        tenant, username, password = self.supervisor
        async with http.post(f"{self.edge_url}/api/v1/auth/login",
                             json={"tenant": tenant, "username": username, "password": password}) as response:
            response.raise_for_status()
            return {"Authorization": f"Bearer {(await response.json())['token']}"}

    async def _post(self, http, path: str, headers: dict, body: dict, counted: str) -> None:
        async with http.post(f"{self.edge_url}{path}", json=body, headers=headers) as response:
            if response.status == 202:
                self.counts[counted] += 1


def policy_scenario(sim, customers: CustomerScenario, settings, edge_url: str) -> PolicyScenario | None:
    """The policy cases for the demo tenant's first account set, signed in as its first supervisor
    (deploy/people.yaml); None when the people file has no supervisor to sign in as."""
    from switchboard.seed import demo_people

    tenants = {a.tenant_id for a in sim.accounts}
    supervisor = next(((t, pid, password) for t, pid, role, password in demo_people(settings.people_file)
                       if role == "supervisor" and t in tenants), None)
    if supervisor is None or not all(sim.account(c) for c in ("x", "line", "messenger", "whatsapp")):
        return None
    from schemas import Codec

    return PolicyScenario(sim, customers, edge_url=edge_url, kafka=settings.kafka_client_config(), supervisor=supervisor,
                          codec=Codec.from_settings(settings))
