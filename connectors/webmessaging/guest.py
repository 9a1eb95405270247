"""One widget socket's conversation with the edge: the guest API's actions (docs/channels/web.md).

A `Connection`'s state is the socket's: the token it configured, its session, its rate limits.
Each action checks, publishes (all-or-nothing, acknowledged before answering) and answers; an
action refused answers one of the contract's error codes. Sessions live in `webmessaging-sessions`,
guest messages go through `WebConnector.parse` like any channel's webhook.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

from channels.web import Hours
from connectors.edge import webhook_events
from connectors.feed import parse_event_id
from connectors.normalize import status
from connectors.publisher import PublishError, Record
from schemas import topic

from . import history, uploads
from .guest_jwt import claims_of, identity_of
from .hub import EVENTS, Guest
from .limits import RateLimit, Throttle
from .protocol import MAX_TEXT, TOKEN, GuestError, field
from .sessions import conversation_expires_at, new_session, session_key

STATUSES = topic("delivery-status").name
NAMESPACE = uuid.UUID("0b7e5c1a-4d2f-5e8b-9a3c-6f1d2e4b8a70")
DETAILS = {"name": "display_name", "email": "email", "phone": "phone"}
MAX_DETAIL = 200
MAX_ATTACHMENTS = 10


class Connection:
    """The state and actions of one guest socket of `deployment` (a dict with its `id`)."""

    def __init__(self, wm, tenant: str, deployment: dict, outbox: asyncio.Queue, *, source: str | None,
                 counters: Counter):
        self.wm, self.tenant, self.deployment, self.outbox = wm, tenant, deployment, outbox
        self.source, self.counters = source, counters   # the caller's address (its budgets), the edge's stats
        self.account = wm.account(tenant, deployment)
        self.token: str | None = None
        self.key: str | None = None
        self.session: dict | None = None
        self.guest: Guest | None = None
        self.page: str | None = None
        self.language: str | None = None
        self.limit, self.typing_throttle = RateLimit(wm.clock), Throttle(wm.clock)
        self.told: set[str] = set()   # local events already sent for this session (ended, expired)
        self.after: list[dict] = []   # frames that follow the answer being made (a receipt)
        self.replay_from: tuple[int, int] | None = None   # a reconnect's `since`, replayed after the answer
        self.actions = {"configureSession": self.configure, "onMessage": self.on_message, "typing": self.typing,
                        "markRead": self.mark_read, "getUploadUrl": self.upload_url,
                        "submitOfflineForm": self.offline_form, "authenticate": self.authenticate,
                        "closeSession": self.close_session, "ping": self.ping}

    # --- session ----------------------------------------------------------------------------

    async def configure(self, frame: dict) -> dict:
        """Resume the token's session (or start one); with `since`, replay what was missed."""
        token = field(frame, "token", str)
        if not TOKEN.match(token):
            raise GuestError("bad_request", "`token` must be 32 to 256 characters of [A-Za-z0-9_-]")
        since = _since(frame.get("since"))
        attributes = field(frame, "attributes", dict, required=False) or {}
        key, now = session_key(self.deployment["id"], token), self.wm.now()
        known = self.wm.sessions.get(key)
        existing = None if frame.get("startNew") is True else known
        if existing is not None and existing["expires_at"] <= now:
            raise GuestError("session_expired", "this session has expired: configure again with startNew")
        session = _with_details(existing or new_session(self.tenant, self.deployment, now), attributes)
        jwt_text = field(frame, "jwt", str, required=False)
        if jwt_text:
            session = self._authenticated(session, jwt_text)
        elif self.deployment["authenticated"].get("required") and not session["authenticated"]:
            raise GuestError("auth_required", "this site lets signed-in visitors chat only: pass the site's JWT")
        if known is None:   # a token never seen: a new record and state, so the address's budget pays
            self._new_session()
        if session != existing:
            await self._write(key, session)
        self.token, self.key = token, key
        self.page, self.language = _text(attributes.get("page")), _text(attributes.get("language"))
        self._bind(session, since if existing is not None else None)
        return self.session_body(resumed=existing is not None)

    async def authenticate(self, frame: dict) -> dict:
        """Step up from guest to authenticated (never down, never to another `sub`)."""
        self._check(frame)
        session = self._authenticated(self.session, field(frame, "jwt", str))
        if session != self.session:
            await self._write(self.key, session)
            self.session = session
        return self.session_body(resumed=True)

    async def close_session(self, frame: dict) -> dict:
        """Forget the session: the next configureSession of this token starts a new one."""
        self._check(frame)
        await self._write(self.key, None)
        self.detach()
        self.session = self.token = self.key = None
        return {}

    def session_body(self, *, resumed: bool) -> dict:
        """The answer of configureSession and authenticate."""
        session, deployment, now = self.session, self.deployment, self.wm.now()
        ends = conversation_expires_at(session, deployment)
        token, token_expires = history.issue(self.wm, session)
        return {"sessionId": session["session_id"], "resumed": resumed, "readOnly": ends is not None and ends <= now,
                "expiresAt": session["expires_at"], "conversationExpiresAt": ends,
                "authenticated": session["authenticated"],
                "allowedMedia": {"types": list(deployment["file_types"]), "maxBytes": deployment["max_file_bytes"]},
                "look": deployment["look"], "prechat": list(deployment["prechat"]), "open": self.is_open(),
                "historyUrl": history.history_url(self.wm, session), "historyToken": token,
                "historyTokenExpiresAt": token_expires}

    def is_open(self) -> bool:
        """Inside the deployment's business hours (no hours: always)."""
        hours = self.deployment.get("hours")
        return hours is None or Hours(**hours).open_at(self.wm.now())

    # --- messages ---------------------------------------------------------------------------

    async def on_message(self, frame: dict) -> dict:
        """A visitor's message → inbound-messages (and the session's last activity)."""
        self._check(frame)
        message = field(frame, "message", dict)
        text = field(message, "text", str, required=False)
        ids = field(message, "attachments", list, required=False) or []
        if text is not None and len(text) > MAX_TEXT:
            raise GuestError("message_too_long", f"at most {MAX_TEXT} characters per message")
        if not (text or "").strip() and not ids or len(ids) > MAX_ATTACHMENTS:
            raise GuestError("bad_request", f"send `text` and/or up to {MAX_ATTACHMENTS} attachment ids")
        if not self.is_open():
            raise GuestError("closed", "outside business hours: send the offline form (submitOfflineForm)")
        self.limit.take()
        attachments = [await asyncio.to_thread(uploads.resolve, self.wm, self.session, a) for a in ids]
        client_id = field(message, "clientMessageId", str, required=False)
        return await self._send(text, attachments, client_id)

    async def offline_form(self, frame: dict) -> dict:
        """Outside business hours: the form becomes a conversation (an inbound message marked offline_form)."""
        self._check(frame)
        form = field(frame, "form", dict)
        text = field(form, "message", str)
        if not text.strip() or len(text) > MAX_TEXT:
            raise GuestError("bad_request", f"the form's `message` needs 1 to {MAX_TEXT} characters")
        self.limit.take()
        self.session = _with_details(self.session, form)   # written with the message below
        return await self._send(text, [], field(form, "clientMessageId", str, required=False), offline=True)

    async def typing(self, frame: dict) -> dict:
        """The visitor is typing: one per 5 s passes, the rest are answered throttled. Nothing is published:
        the agent page shows no customer typing on any channel yet (docs/channels/web.md)."""
        self._check(frame)
        return {} if self.typing_throttle.passes() else {"throttled": True}

    async def mark_read(self, frame: dict) -> dict:
        """The visitor saw an agent's message → a `read` delivery-status (the agent page shows it)."""
        self._check(frame)
        message_id = field(frame, "messageId", str)
        record = status(self.account, external_id=self.session["session_id"], state="read",
                        platform_message_ids=[message_id], occurred_at=self.wm.now(), outbound_id=message_id)
        await self._publish([Record(STATUSES, record["thread_key"],
                                    self.wm.codec.encode("delivery-status", record))])
        return {}

    async def upload_url(self, frame: dict) -> dict:
        """A one-time URL to PUT an attachment's bytes to."""
        self._check(frame)
        self.limit.take()
        return uploads.issue(self.wm, self.deployment, self.session, field(frame, "fileType", str),
                             field(frame, "fileSize", int))

    async def ping(self, frame: dict) -> dict:
        """Keep-alive."""
        return {}

    async def _send(self, text: str | None, attachments: list[dict], client_id: str | None, *,
                    offline: bool = False) -> dict:
        now = self.wm.now()
        # A clientMessageId makes a resend (after `unavailable`) the same message: the pipeline keeps one.
        same = uuid.uuid5(NAMESPACE, f"{self.session['session_id']}|{client_id}") if client_id else uuid.uuid4()
        message_id = f"wm-{same}"
        envelope = {"session": self._envelope_session(), "message": {
            "id": message_id, "sentAt": now, "text": text, "attachments": attachments, "offlineForm": offline}}
        parsed, records = webhook_events(self.wm.connector, self.account, _json(envelope), now, self.wm.codec)
        session = self.session | {"last_activity_at": now}
        await self._write(self.key, session, with_records=records)   # the message and the session: one unit
        self.session = session
        self.told.discard("conversationEnded")
        event_id = parsed.messages[0]["event_id"]
        self.after.append({"type": "event", "event": "receipt", "body": {"messageId": event_id, "status": "delivered"}})
        return {"messageId": event_id, "receivedAt": now}

    def _envelope_session(self) -> dict:
        s = self.session
        return {"id": s["session_id"], "authenticated": s["authenticated"], "sub": s["auth_sub"],
                "name": s["display_name"], "email": s["email"], "phone": s["phone"], "page": self.page,
                "language": self.language, "entryPoint": s["entry_point"]}

    # --- plumbing ---------------------------------------------------------------------------

    def _check(self, frame: dict) -> None:
        """The frame carries this socket's token and its session is still live."""
        if self.session is None or frame.get("token") != self.token:
            raise GuestError("session_not_configured", "configureSession first, and send its token with every frame")
        if self.session["expires_at"] <= self.wm.now():
            raise GuestError("session_expired", "this session has expired: configure again with startNew")

    def _new_session(self) -> None:
        if self.wm.floods is not None:
            try:
                self.wm.floods.new_session(self.source)
            except GuestError:
                self.counters["guest_session_flooded"] += 1
                raise
        self.counters["guest_sessions"] += 1

    def _authenticated(self, session: dict, token: str) -> dict:
        claims = claims_of(self.deployment["authenticated"], token, self.wm.clock())
        if session["authenticated"] and claims["sub"] != session["auth_sub"]:
            raise GuestError("step_down_refused", "this session belongs to another signed-in visitor: startNew")
        vouched = {k: v for k, v in identity_of(claims).items() if v is not None}
        return session | vouched | {"authenticated": True}

    async def _write(self, key: str, session: dict | None, with_records: list[Record] = ()) -> None:
        """Publish the session (None: forget it) with other records, then see it here at once."""
        await self._publish([*with_records, self.wm.sessions.record(key, session)])
        self.wm.sessions.applied(key, session)

    async def _publish(self, records: list[Record]) -> None:
        try:
            await self.wm.publisher.publish(records)
        except PublishError:
            raise GuestError("unavailable", "the message could not be kept: send it again") from None

    def _bind(self, session: dict, since: tuple[int, int] | None) -> None:
        if self.guest is not None and self.guest.session_id == session["session_id"]:
            self.session = session
            return
        self.detach()
        self.session, self.told = session, set()
        self.guest = Guest(self.deployment["id"], session["session_id"], since, self.outbox)
        self.wm.hub.attach(self.guest)
        self.replay_from = since

    async def settle(self) -> None:
        """After an answer went out: what follows it (a receipt), then a reconnect's replay."""
        while self.after:
            self.outbox.put_nowait(self.after.pop(0))
        if self.replay_from is not None and self.guest is not None:
            since, self.replay_from = self.replay_from, None
            await self.wm.hub.replay(self.guest, since)

    def detach(self) -> None:
        """Stop pushing to this socket."""
        if self.guest is not None:
            self.wm.hub.detach(self.guest)
            self.guest = None


def _since(value) -> tuple[int, int] | None:
    if value in (None, ""):
        return None
    try:
        return parse_event_id(str(value), EVENTS.partitions)
    except ValueError as exc:
        raise GuestError("bad_request", str(exc)) from None


def _with_details(session: dict, given: dict) -> dict:
    """The session with the details the visitor gave (name, email, phone, entry point); an
    authenticated session keeps the name and email the site vouched for."""
    changed = dict(session)
    for name, column in DETAILS.items():
        value = _text(given.get(name))
        if value and not (session["authenticated"] and column in ("display_name", "email") and session[column]):
            changed[column] = value[:MAX_DETAIL]
    entry = _text(given.get("entryPoint"))
    if entry:
        changed["entry_point"] = entry[:MAX_DETAIL]
    return changed


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _json(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
