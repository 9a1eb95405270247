"""The small interface every channel connector implements, and the values it exchanges."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ParseError(ValueError):
    """A webhook body the connector cannot read: answered 400, raw bytes dead-lettered."""


class Refused(ValueError):
    """Outbound content the channel cannot carry, found before any platform call."""

    def __init__(self, rule: str, reason: str):
        super().__init__(reason)
        self.rule, self.reason = rule, reason


@dataclass
class Parsed:
    """What one webhook request held: events to publish and what was left out (counted)."""

    messages: list[dict] = field(default_factory=list)   # inbound-message records
    statuses: list[dict] = field(default_factory=list)   # delivery-status records
    account_events: list[dict] = field(default_factory=list)  # account-event records (templates, tiers…)
    echoes: int = 0        # our own sends reflected back: dropped
    unsupported: int = 0   # content of unknown types: published as `unsupported`, counted
    ignored: int = 0       # events that are neither messages, receipts nor account events (typing…)


@dataclass(frozen=True)
class PlatformRequest:
    """One HTTP call to a platform's send API."""

    method: str
    url: str
    headers: dict[str, str]
    json: dict | None = None
    body: bytes | None = None       # exact bytes when they are signed (Open Messaging)
    idempotent: bool = False        # the platform dedupes a repeat (LINE retry key, Open id)
    fallback: "PlatformRequest | None" = None  # sent instead when the result asks for it


@dataclass(frozen=True)
class SendResult:
    """How a platform answered one request."""

    ok: bool
    platform_message_ids: tuple[str, ...] = ()
    retriable: bool = False
    error_code: str | None = None
    reason: str | None = None
    retry_after: float | None = None   # seconds the platform asked us to wait
    use_fallback: bool = False         # e.g. LINE's expired reply token: push instead


class Connector(Protocol):
    """One channel: webhook handshake, signature check, parsing, and send-API mapping.

    Implementations are stateless; per-account data (secrets, tokens, base URLs) arrives as the
    `account` argument (a `switchboard.accounts` model). Inbound:

    - `handshake(account, query)` answers the platform's subscription check (Meta `hub.*`, X CRC)
      as `(status, body, content_type)`, or None when the GET is not a handshake this channel knows.
    - `verify(account, headers, body)` checks the signature over the raw bytes, in constant time,
      with the channel's fixed algorithm, accepting each of `account.signing_secrets()` (rotation).
    - `parse(account, body, received_at_ms)` turns a verified body into `Parsed`: every entry of a
      batch, inbound-message and delivery-status records with deterministic `event_id`s, echoes
      dropped, unknown types counted; what the platform says about the account itself (template
      status, quality rating, messaging-limit tier) as account-event records, unknown account-level
      fields counted as ignored. It raises `ParseError` for a body it cannot read.

    Outbound:

    - `requests_for(account, outbound)` maps one normalized outbound message (an outbound-message
      record) to the platform's exact requests, raising `Refused(rule, reason)` for anything the
      channel cannot carry — before any call is made.
    - `result_of(request, status, headers, body)` classifies the answer: success with the
      platform's message ids, a retriable error (429/5xx; `retry_after` from Retry-After or the
      platform's reset header), or a permanent error with the platform's code and a readable reason.
    """

    channel: str

    def handshake(self, account, query: dict[str, str]) -> tuple[int, str, str] | None: ...

    def verify(self, account, headers, body: bytes) -> bool: ...

    def parse(self, account, body: bytes, received_at_ms: int) -> Parsed: ...

    def requests_for(self, account, outbound: dict) -> list[PlatformRequest]: ...

    def result_of(self, request: PlatformRequest, status: int, headers, body: bytes) -> SendResult: ...
