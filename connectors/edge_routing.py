"""App-webhook routing: whose entries a verified body carries, and the events they give.

A Meta app's one callback URL carries entries for all its Pages and numbers, an X app's one webhook
those of all its subscribed accounts, and an account's own URL may carry its app's other accounts
too (one secret signs them all). `batch_events` splits a body by the connector's `split`, gives
each part to its owner (`Owners`) and parses it as that account's webhook (`webhook_events`); an
entry no account here owns is counted by (channel, reason) — the edge's `unrouted.<channel>.<reason>`
stats — logged, and acknowledged with the rest, never spoiling them. `replayed_events` routes a
dead-lettered body again the same way.
"""
from __future__ import annotations

import logging
from collections import Counter

from channels.account import PlatformApp, apps_of
from schemas import Codec, topic

from . import meta
from .base import Parsed, ParseError
from .publisher import Record
from .registry import connector

log = logging.getLogger("switchboard.edge")   # the edge's logger: these lines are the edge's
INBOUND, STATUSES = topic("inbound-messages").name, topic("delivery-status").name
ACCOUNT_EVENTS = topic("account-events").name
MAX_REASON_CHARS = 500  # a dead letter's `error` header and the answer's text


class Owners:
    """Whose entries a verified webhook may carry: an app's URL, its accounts; an account's URL, the
    account itself and the accounts of its app (one secret signs them all). `owner` answers an
    entry's account or why there is none: `unknown_account` (no enabled account has the id),
    `other_app` (an account another secret signs for), `unknown_waba` (a WhatsApp Business Account
    none of its numbers here names)."""

    def __init__(self, accounts, app: PlatformApp | None, account=None):
        self.accounts, self.account = accounts, account
        self.app = app or getattr(account, "app", None)

    def channel(self, body: bytes) -> str:
        """The body's channel: an account's own; at a Meta app's URL, the product its `object` names."""
        if self.account is not None:
            return self.account.channel
        return meta.channel_of(body) if self.app.platform == "meta" else self.app.channels[0]

    def owner(self, channel: str, account_id: str | None, waba_id: str | None):
        """(account, None) for the entry's owner, else (None, reason)."""
        if account_id is None:   # a WhatsApp Business Account's own change: the URL's number, else the first here
            mine = self.account is not None and self.account.waba_id in (waba_id, None)   # None: as before apps
            found = [self.account] if mine else [a for a in self.accounts if a.channel == channel and a.enabled
                                                 and a.waba_id == waba_id and self.holds(a)]
            return (found[0], None) if found else (None, "unknown_waba")
        account = self.accounts.get(channel, account_id)
        if account is None:
            return None, "unknown_account"
        return (account, None) if self.holds(account) else (None, "other_app")

    def holds(self, account) -> bool:
        """Whether the URL's secret signs for `account`."""
        if self.account is not None and (account.channel, account.account_id) == \
                (self.account.channel, self.account.account_id):
            return True
        app = getattr(account, "app", None)
        return self.app is not None and app is not None and (app.platform, app.name) == (self.app.platform, self.app.name)

    def letter(self, body: bytes) -> tuple[str, list[tuple[str, bytes]]]:
        """The dead letter's key and headers: what `replayed_events` needs to route the body again."""
        if self.account is not None:
            a = self.account
            return f"{a.tenant_id}:{a.channel}:{a.account_id}", [("channel", a.channel.encode()),
                                                                 ("channel_account_id", a.account_id.encode())]
        try:
            channel = self.channel(body)
        except ParseError:
            channel = self.app.platform
        return f"app:{self.app.platform}:{self.app.name}", [
            ("channel", channel.encode()), ("app_platform", self.app.platform.encode()), ("app", self.app.name.encode())]


def batch_events(owners: Owners, body: bytes, received_at_ms: int, codec: Codec) -> tuple[Parsed, list[Record], Counter]:
    """A verified body's entries, each parsed as a webhook of its owner (`webhook_events`): the
    events of them all, and the entries without an owner counted by (channel, reason). A
    connector's `split(body)` gives the routes, `(account id, WABA id, body, entries)` per owner;
    one without `split` (LINE, Open: one account per webhook) gives the URL's account the body.
    ParseError (the whole body is dead-lettered) as `webhook_events`, for the split too."""
    total, records, unrouted = Parsed(), [], Counter()
    channel = owners.channel(body)
    handler = connector(channel)
    split = getattr(handler, "split", None)   # channels whose webhooks carry one account's entries have none
    routes = _guarded(lambda: split(body), channel) if split else [(owners.account.account_id, None, body, 1)]
    for account_id, waba_id, part, entries in routes:
        account, reason = owners.owner(channel, account_id, waba_id)
        if account is None:
            unrouted[channel, reason] += entries
            log.warning("%s: %d entries for %s %s (%s): acknowledged, not published", channel, entries,
                        "WABA" if account_id is None else "id", account_id or waba_id, reason)
            continue
        parsed, events = webhook_events(handler, account, part, received_at_ms, codec)
        _add(total, parsed)
        records += events
    return total, records, unrouted


def _guarded(split, channel: str):
    """The split's routes; a bug it meets is a ParseError (the body is dead-lettered), as in `webhook_events`."""
    try:
        return split()
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 — never a 5xx for a verified body
        log.error("%s: the split failed", channel, exc_info=not isinstance(exc, RecursionError))
        raise ParseError(f"parser failed: {type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]) from None


def _add(total: Parsed, parsed: Parsed) -> None:
    total.messages += parsed.messages
    total.statuses += parsed.statuses
    total.account_events += parsed.account_events
    total.echoes, total.unsupported, total.ignored = (total.echoes + parsed.echoes, total.unsupported + parsed.unsupported,
                                                      total.ignored + parsed.ignored)


def webhook_events(handler, account, body: bytes, received_at_ms: int, codec: Codec) -> tuple[Parsed, list[Record]]:
    """A verified body parsed, its events encoded and keyed as the edge publishes them (or ParseError).

    Any other exception of the parser or the encoder is a bug met on this body: it becomes a
    ParseError too (logged with its traceback), so the body is dead-lettered and answered 200 rather
    than 500 — the platform would resend it for days — and is replayed once the bug is fixed.
    """
    try:
        return _events(handler, account, body, received_at_ms, codec)
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 — see the docstring: never a 5xx for a verified body
        log.error("%s/%s: the parser failed on a %d-byte body", account.channel, account.account_id, len(body),
                  exc_info=not isinstance(exc, RecursionError))
        raise ParseError(f"parser failed: {type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]) from None


def _events(handler, account, body: bytes, received_at_ms: int, codec: Codec) -> tuple[Parsed, list[Record]]:
    parsed = handler.parse(account, body, received_at_ms)
    records = [Record(INBOUND, m["thread_key"], codec.encode("inbound-message", m)) for m in parsed.messages]
    records += [Record(STATUSES, s["thread_key"], codec.encode("delivery-status", s)) for s in parsed.statuses]
    # Keyed by the account's portfolio key: the account stage (streams/accounts) owns that state.
    records += [Record(ACCOUNT_EVENTS, account.portfolio_key, codec.encode("account-event", e))
                for e in parsed.account_events]
    return parsed, records


def replayed_events(accounts, codec: Codec, body: bytes, headers: dict[str, str]) -> list[Record]:
    """The events a dead-lettered webhook body gives with today's parser (ParseError while it still cannot).

    Not verified again: the signature was checked before the body was dead-lettered (`receive`
    verifies, then parses), and the secret may have been rotated since. `Connector.parse` reads
    the body alone, so the account's (or the app's) headers are all the dead letter must carry; its
    `time` is when the webhook arrived, so the events are the ones the live webhook would have given
    (routed to the same owners: entries for unknown ids are left out again).
    """
    if "app" in headers:
        app = apps_of(accounts).get((headers.get("app_platform", ""), headers["app"]))
        if app is None:
            raise ParseError(f"no {headers.get('app_platform')} app {headers['app']} is configured")
        owners = Owners(accounts, app)
    else:
        channel, account_id = headers.get("channel", ""), headers.get("channel_account_id", "")
        account = accounts.get(channel, account_id)
        if connector(channel) is None or account is None:
            raise ParseError(f"no {channel} account {account_id} is configured")
        owners = Owners(accounts, None, account)
    return batch_events(owners, body, int(headers["time"]), codec)[1]
