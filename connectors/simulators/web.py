"""Simulated web visitors: browsers talking to our own edge's guest API (docs/channels/web.md).

Web Messaging has no platform between the customer and us — the widget talks to the edge — so
this "platform" plays the visitors' side of the guest WebSocket: each pool customer who visits a
deployment keeps a token (as the widget keeps it in localStorage), opens the socket with the site's
origin, `configureSession` (a first visit may fill the pre-chat form with the customer's name and
email — the email they also use elsewhere, so identity matching links them), sends the scenario's
messages (images by `getUploadUrl` + PUT), reads agent `message` events (the web counterpart of a
platform's send API receiving: `sends["web"]["received"]`, the request log) and answers them with
`markRead` (counted as receipts), then closes after a quiet spell — sometimes with `closeSession`,
so the next visit is a new session. A returning visitor resumes with `since` and counts each agent
message once, however often it is replayed.

The scenario drives it like any platform: `event`/`envelope` shape a visit's messages, and
`deliver` sends them over the visitor's socket instead of posting a webhook.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import string
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urljoin

import aiohttp

from .base import Platform, Webhook
from .customers import Content, Customer
from .guest_socket import GuestError, GuestSocket
from .media import sample

log = logging.getLogger(__name__)
URLSAFE = string.ascii_letters + string.digits + "-_"
# The guest API's error codes as HTTP-like statuses (the control API and the stats speak in statuses).
STATUS = {"rate_limited": 429, "unavailable": 503}
START_OVER = ("read_only", "session_expired")   # answers to a message that a new session cures
NO_ANSWER = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ConnectionError)


@dataclass
class Visitor:
    """One browser on one deployment: its token (the widget's localStorage), its socket while the
    page is open, the last event id and the agent messages it has seen."""

    customer: Customer
    token: str
    socket: GuestSocket | None = None
    since: str | None = None
    seen: set[str] = field(default_factory=set)
    visits: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closer: asyncio.Task | None = None

    @property
    def open(self) -> bool:
        return self.socket is not None and not self.socket.closed

    async def ask(self, action: str, **fields) -> dict:
        """An action of this visitor's session (its token on every frame)."""
        return await self.socket.ask(action, token=self.token, **fields)


class WebVisitors(Platform):
    """Visitors of every web deployment, as WebSocket clients of the edge's guest API."""

    channel = "web"
    timeout = 10.0
    kinds = {"text": 6, "emoji": 2, "url": 1, "email": 1, "image": 1}
    idle_seconds = 15.0           # a visitor closes the page this long after their last message
    forget_probability = 0.25     # … and ends the session (`closeSession`) this often
    prechat_probability = 0.6     # a first visit fills the pre-chat form when the customer has an email

    def __init__(self, sim):
        super().__init__(sim)
        self.rng = random.Random(f"web-visitors:{sim.seed}")
        self.visitors: dict[tuple[str, str], Visitor] = {}
        self._customers = {c.id_on(self.channel): c for c in sim.pool}

    # --- what the scenario builds ---------------------------------------------------------------
    def event(self, account, customer: Customer, content: Content, now_ms: int) -> dict:
        """One visitor message: its text and whether an image goes with it."""
        text = content.text or ("" if content.kind == "image" else content.kind)
        return {"visitor": customer.id_on(self.channel), "sentAt": now_ms, "image": content.kind == "image",
                "message": {"text": text, "clientMessageId": f"c-{self.token(20)}"}}

    def envelope(self, account, events: list[dict]) -> dict:
        """A visit: the deployment and the messages its visitors send, in order."""
        return {"deploymentId": account.account_id, "messages": events}

    def sender_of(self, event: dict) -> str:
        return event["visitor"]

    def serialize(self, payload) -> bytes:
        return json.dumps(payload, ensure_ascii=False).encode()

    def sign(self, account, body: bytes) -> dict[str, str]:
        return {}   # no signature: the socket's Origin check and the session token are the guest API's

    # --- the guest API, as a browser uses it -----------------------------------------------------
    def url(self, account) -> str:
        """The guest socket of a deployment on the edge."""
        return f"{self.sim.client.edge_url}/webmessaging/v1?deploymentId={account.account_id}"

    def origin(self, account) -> str:
        """The page's origin the browser sends: the deployment's first allowed site."""
        return account.allowed_origins[0] if account.allowed_origins else "http://127.0.0.1:8080"

    async def handshake(self, client, account) -> bool:
        """The edge answers the deployment's socket (it may start after us, or learn it later)."""
        try:
            socket = await GuestSocket.open(client.session, self.url(account), self.origin(account), None, 3)
        except NO_ANSWER as exc:
            log.debug("web handshake %s: %s", account.account_id, exc)
            return False
        await socket.close()
        return True

    async def deliver(self, hook: Webhook) -> int | None:
        """Send a visit's messages over each visitor's socket; the last answer as an HTTP-like status."""
        account = self.sim.account(self.channel, hook.account_id)
        status = None
        for message in hook.payload["messages"]:
            visitor = self._visitor(account, self._customers[message["visitor"]])
            async with visitor.lock:
                status = await self._send(account, visitor, message)
            self._close_later(visitor)
        return status

    def _visitor(self, account, customer: Customer) -> Visitor:
        key = (account.account_id, customer.id_on(self.channel))
        if key not in self.visitors:
            self.visitors[key] = Visitor(customer, self.token(43, URLSAFE))
        return self.visitors[key]

    async def _send(self, account, visitor: Visitor, message: dict) -> int | None:
        counts = self.state.stats.webhooks[self.channel]
        counts["sent"] += 1
        try:
            if not visitor.open:
                await self._configure(account, visitor)
            frame = dict(message["message"])
            if message["image"]:
                frame["attachments"] = [await self._upload(account, visitor)]
            await self._message(account, visitor, frame)
        except GuestError as exc:
            counts[exc.code] += 1
            return STATUS.get(exc.code, 400)
        except aiohttp.WSServerHandshakeError as exc:
            counts[str(exc.status)] += 1
            return exc.status
        except NO_ANSWER as exc:
            counts["no_answer"] += 1
            log.debug("web visitor: %s", exc)
            return None
        counts["accepted"] += 1
        return 200

    async def _ask(self, visitor: Visitor, action: str, **fields) -> dict:
        """An action, waiting out `rate_limited` as the widget does (messages and uploads share the
        session's limit)."""
        for _attempt in range(3):
            try:
                return await visitor.ask(action, **fields)
            except GuestError as exc:
                if exc.code != "rate_limited":
                    raise
                self.state.stats.webhooks[self.channel]["rate_limited"] += 1
                await asyncio.sleep(float(exc.retry_after or 0.5))
        return await visitor.ask(action, **fields)

    async def _message(self, account, visitor: Visitor, frame: dict) -> dict:
        """`onMessage`, starting over from an expired session."""
        try:
            return await self._ask(visitor, "onMessage", message=frame)
        except GuestError as exc:
            if exc.code not in START_OVER:
                raise
        await self._configure(account, visitor, start_new=True)
        return await self._ask(visitor, "onMessage", message=frame)

    async def _configure(self, account, visitor: Visitor, start_new: bool = False) -> dict:
        """Open the page's socket if needed and `configureSession`, resuming from the last event seen.
        A read-only answer (the conversation's window passed) needs nothing: like the widget's "start
        new", the next message starts a new conversation on the same session."""
        if not visitor.open:
            visitor.socket = await GuestSocket.open(self.sim.client.session, self.url(account), self.origin(account),
                                                    partial(self._on_event, visitor), self.timeout)
            self.sim.spawn(visitor.socket.read())
        fields = {"since": visitor.since} if visitor.since and not start_new else {}
        customer = visitor.customer
        if visitor.visits == 0 and customer.email and self.rng.random() < self.prechat_probability:
            fields["attributes"] = {"name": customer.name, "email": customer.email}   # the pre-chat form
        visitor.visits += 1
        body = await self._ask(visitor, "configureSession", startNew=start_new, **fields)
        self.state.stats.webhooks[self.channel]["resumed" if body.get("resumed") else "sessions"] += 1
        return body

    async def _upload(self, account, visitor: Visitor) -> str:
        """An image from the samples: `getUploadUrl`, then PUT its bytes; the attachment id."""
        held = sample(self.ids, "image")
        body = await self._ask(visitor, "getUploadUrl", fileName=held.name, fileType=held.mime_type,
                               fileSize=len(held.data))
        url = urljoin(self.sim.client.edge_url + "/", body["uploadUrl"])
        async with self.sim.client.session.put(url, data=held.data, headers={
                "Content-Type": held.mime_type, "Origin": self.origin(account)},
                timeout=aiohttp.ClientTimeout(total=self.timeout)) as answer:
            if answer.status != 201:
                raise GuestError({"code": f"upload_{answer.status}", "message": await answer.text()})
            self.state.stats.webhooks[self.channel]["uploads"] += 1
            return (await answer.json()).get("attachmentId", body["attachmentId"])

    async def _on_event(self, visitor: Visitor, frame: dict) -> None:
        """An agent message, shown once however often it is replayed, and read (`markRead`)."""
        visitor.since = frame.get("id") or visitor.since
        body = frame.get("body") or {}
        if frame.get("event") != "message" or body.get("direction") != "outbound" or body.get("messageId") in visitor.seen:
            return
        visitor.seen.add(body["messageId"])
        self.state.requests[self.channel].append(
            {"at": self.state.clock.now_ms(), "method": "EVENT", "path": "/webmessaging/v1",
             "query": {"visitor": visitor.customer.id_on(self.channel)}, "headers": {}, "body": body,
             "status": 200, "response": None, "fault": None})
        self.state.stats.sends[self.channel]["received"] += 1
        try:
            await visitor.socket.tell("markRead", token=visitor.token, messageId=body["messageId"])
            self.state.stats.receipts[self.channel] += 1
        except NO_ANSWER:
            pass

    def _close_later(self, visitor: Visitor) -> None:
        """Close the page `idle_seconds` after the visitor's last message (rescheduled by each one)."""
        if visitor.closer is not None:
            visitor.closer.cancel()
        visitor.closer = self.sim.spawn(self._close(visitor))

    async def _close(self, visitor: Visitor) -> None:
        await asyncio.sleep(self.idle_seconds)
        async with visitor.lock:
            if not visitor.open:
                return
            if self.rng.random() < self.forget_probability:   # "end chat": the next visit is a new session
                try:
                    await visitor.ask("closeSession")
                except (GuestError, *NO_ANSWER):
                    pass
                visitor.token, visitor.since, visitor.visits = self.token(43, URLSAFE), None, 0
            await visitor.socket.close()
            self.state.stats.webhooks[self.channel]["closed"] += 1


def deployments(settings, timeout: float = 10.0) -> list:
    """The directory's web deployments as channel accounts: where visitors go, with which origin.
    None are found (a warning, not a failure) when the directory cannot be read in `timeout`."""
    from channels.web import account_of
    from schemas import Codec
    from switchboard.directory import DirectoryView
    from switchboard.errors import UserError

    view = DirectoryView(settings.kafka_client_config(), Codec.from_settings(settings)).start()
    try:
        view.wait_ready(timeout)
        return [account_of(e["tenant_id"], e["entry_id"], e["body"])
                for e in list(view.entries.values()) if e["kind"] == "deployment"]
    except UserError as exc:
        log.warning("no web visitors: %s", exc)
        return []
    finally:
        view.close()
