"""What every simulated platform shares: its webhooks (shape → bytes → signature), its send-API
plumbing (faults, request log, stats, receipts after the answer) and a few id makers.

A platform module subclasses `Platform` with the channel's payload factories and send-API checks;
adding a platform means one module, named by its channel's declaration (channels/<channel>.py).
"""
from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from .customers import Content, Customer
from .state import Fault


@dataclass
class Webhook:
    """One signed request a platform sends to the edge."""

    channel: str
    account_id: str
    payload: Any          # the JSON value, before serialization
    body: bytes           # exactly the bytes signed and sent
    headers: dict[str, str]
    kind: str = "message"  # message | receipt | verify
    redelivery: bool = False


@dataclass
class Reply:
    """A send-API answer, plus the receipts to send once it is answered."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    after: Callable[[], Awaitable[None]] | None = None


class Platform:
    """Base of the simulated platforms. Subclasses set the class attributes and override the factories."""

    channel: str = ""
    default_prefix: str = ""
    timeout: float = 10.0          # how long the platform waits for the edge's answer
    kinds: dict[str, float] = {}   # inbound content mix (kind → weight)
    FAULTS: dict[str, Callable[["Platform", Fault], Reply]] = {}

    def __init__(self, sim):
        self.sim = sim
        self.state = sim.state
        self.ids = random.Random(f"{self.channel}:{sim.seed}")

    # --- accounts and routes ------------------------------------------------------------------
    @property
    def accounts(self) -> list:
        """This platform's configured accounts."""
        return [a for a in self.sim.accounts if a.channel == self.channel]

    def prefixes(self) -> set[str]:
        """URL path prefixes the send API answers under: the path of each account's api_base_url."""
        return {urlparse(a.api_base_url).path.rstrip("/") if a.api_base_url else self.default_prefix
                for a in self.accounts}

    def routes(self) -> list[web.RouteDef]:
        """The send-API routes (subclasses)."""
        return []

    def account_by_token(self, token: str | None):
        """The account whose access token this is (the platforms know which token belongs to whom)."""
        return next((a for a in self.accounts if token and a.access_token.get_secret_value() == token), None)

    # --- inbound webhooks -----------------------------------------------------------------------
    def event(self, account, customer: Customer, content: Content, now_ms: int) -> dict:
        """One platform event for a customer's message (subclasses)."""
        raise NotImplementedError

    def envelope(self, account, events: list[dict]) -> Any:
        """The webhook body carrying `events` (subclasses)."""
        raise NotImplementedError

    def sender_of(self, event: dict) -> str:
        """The customer id of an event built by `event` (subclasses)."""
        raise NotImplementedError

    def serialize(self, payload) -> bytes:
        """The bytes the platform sends (subclasses: Meta escapes, the others raw UTF-8)."""
        raise NotImplementedError

    def sign(self, account, body: bytes) -> dict[str, str]:
        """The signature headers for `body` (subclasses)."""
        raise NotImplementedError

    def webhook(self, account, payload, kind: str = "message") -> Webhook:
        """Serialize and sign `payload` for the edge."""
        body = self.serialize(payload)
        headers = {"Content-Type": "application/json", **self.sign(account, body)}
        return Webhook(self.channel, account.account_id, payload, body, headers, kind)

    def redelivered(self, hook: Webhook) -> Webhook:
        """What the platform sends when it delivers `hook` again: by default the identical bytes."""
        return Webhook(**{**hook.__dict__, "redelivery": True})

    def customers_wrote(self, account, events: list[dict], at: float) -> None:
        """Open the customers' messaging windows for the events we send."""
        for event in events:
            self.state.customer_wrote(self.channel, account.account_id, self.sender_of(event), at)

    async def handshake(self, client, account) -> bool:
        """The platform's check of the webhook URL before it sends events (none by default)."""
        return True

    async def deliver(self, hook: Webhook) -> int | None:
        """Send a customer request to the edge: a webhook POST, redelivered on failure, by default
        (web visitors talk over the guest socket instead); the final status, None: no answer."""
        return await self.sim.client.post(self, hook)

    # --- send API -------------------------------------------------------------------------------
    def serve(self, handler: Callable[[web.Request, bytes], Awaitable[Reply]]):
        """Wrap a send-API handler: injected faults, request log, stats, then receipts."""
        async def endpoint(request: web.Request) -> web.Response:
            raw = await request.read()
            fault = self.state.take_fault(self.channel)
            reply = self.fault_reply(fault) if fault else await handler(request, raw)
            self._log(request, raw, reply, fault)
            if reply.after is not None:
                self.sim.spawn(reply.after())
            return web.json_response(reply.body, status=reply.status, headers=reply.headers,
                                     dumps=lambda v: json.dumps(v, ensure_ascii=False))
        return endpoint

    def fault_reply(self, fault: Fault) -> Reply:
        """The platform-shaped answer for an injected fault; generic http_<status> for any platform."""
        if fault.kind in self.FAULTS:
            reply = self.FAULTS[fault.kind](self, fault)
        elif fault.kind.startswith("http_") and fault.kind[5:].isdigit():
            reply = Reply(int(fault.kind[5:]), {"message": f"simulated HTTP {fault.kind[5:]}"})
        else:
            raise ValueError(f"unknown fault {fault.kind!r} for {self.channel}")
        if fault.retry_after is not None:
            reply.headers["Retry-After"] = str(fault.retry_after)
        return reply

    def _log(self, request: web.Request, raw: bytes, reply: Reply, fault: Fault | None) -> None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-line-retry-key", "x-hub-signature-256")}
        self.state.requests[self.channel].append(
            {"at": self.state.clock.now_ms(), "method": request.method, "path": request.path,
             "query": {k: v for k, v in request.query.items() if k != "access_token"}, "headers": headers,
             "body": body, "status": reply.status, "response": reply.body, "fault": fault.kind if fault else None})
        self.state.stats.sends[self.channel][str(reply.status)] += 1
        self.state.stats.sends[self.channel]["received"] += 1

    async def send_receipts(self, account, makers: list[Callable[[], Any]]) -> None:
        """Post receipt webhooks one after another, `sim.receipt_delay` apart; each payload is made
        when it is sent, so its timestamps follow the (controlled) clock."""
        for make in makers:
            await asyncio.sleep(self.sim.receipt_delay)
            self.state.stats.receipts[self.channel] += 1
            await self.sim.client.post(self, self.webhook(account, make(), kind="receipt"))

    # --- ids ------------------------------------------------------------------------------------
    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        """A random id of n characters from `alphabet` (seeded)."""
        return "".join(self.ids.choices(alphabet, k=n))

    def digits(self, n: int) -> str:
        """A random numeric id of n digits, no leading zero (seeded)."""
        return str(self.ids.randrange(10 ** (n - 1), 10 ** n))


def bearer(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def json_body(raw: bytes):
    """The parsed JSON body, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None
