"""The platform sync: what the platforms' account APIs say, published as account events.

For every enabled WhatsApp account, its WABA's template catalogue (`GET /{waba-id}/message_templates`,
paging followed) becomes one `templates_synced` event; for every enabled LINE account, the month's
message quota and consumption (`GET /v2/bot/message/quota` and `…/quota/consumption`) one
`quota_synced` event — to `account-events`, keyed by the account's portfolio key. `switchboard
deliver` runs it at start and every `--sync-interval` seconds, `switchboard admin sync-platforms`
once. A platform error is logged and that account skipped: the next run retries, delivery goes on.
Every request carries the outside-target guard (`connectors.sending.guard`), whatever session it
is made on (deliver's is shared with web's deliveries to our own edge, which the guard must leave
alone): beyond loopback only when the process allows outside targets
(SWITCHBOARD_ALLOW_OUTSIDE_TARGETS); else that account's sync fails at once naming the setting.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

import aiohttp

from schemas import Codec, topic

from . import meta
from .account_events import account_event, template
from .publisher import Publisher, Record
from .sending import guard

log = logging.getLogger("switchboard.platform_sync")
ACCOUNT_EVENTS = topic("account-events").name
PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")   # {{1}} (positional) or {{first_name}} (named)
MAX_PAGES = 50
TIMEOUT = aiohttp.ClientTimeout(total=15)


class SyncError(RuntimeError):
    """A platform answer the sync cannot use (HTTP error, unexpected body): retried next run."""


@dataclass(frozen=True)
class Synced:
    """One account's outcome: its event, or the error that skipped it."""

    account: object
    event: dict | None = None
    error: str | None = None

    def line(self) -> str:
        """One line for the command's output."""
        where = f"{self.account.channel}/{self.account.account_id}"
        if self.error:
            return f"{where}: failed: {self.error}"
        e = self.event
        if e["kind"] == "templates_synced":
            approved = sum(t["status"] == "APPROVED" for t in e["templates"])
            return f"{where}: {len(e['templates'])} templates ({approved} approved) of WABA {e['waba_id']}"
        limit = "no limit" if e["quota_limit"] is None else f"{e['quota_used']}/{e['quota_limit']} messages"
        return f"{where}: quota {limit} this month"


async def _get(session: aiohttp.ClientSession, url: str, account, allowed: bool) -> dict:
    # Per request, so the guard holds on any session (and for each redirect hop): OutsideTarget before connecting.
    async with session.get(url, headers=meta.bearer(account), timeout=TIMEOUT, middlewares=(guard(allowed),)) as response:
        text = await response.text()
        if response.status != 200:
            raise SyncError(f"HTTP {response.status} from {url.split('?')[0]}: {text[:200]}")
        try:
            return await response.json(content_type=None)
        except ValueError:
            raise SyncError(f"not JSON from {url.split('?')[0]}") from None


def definition(graph: dict) -> dict:
    """A Graph message template as a TemplateDefinition: body parameters in order (text: the
    definition does not type them; the send chooses text, currency or date_time)."""
    body = next((c.get("text") or "" for c in graph.get("components") or [] if str(c.get("type")).upper() == "BODY"), "")
    parameters = ["text"] * len(dict.fromkeys(PLACEHOLDER.findall(body)))
    return template(graph["name"], graph["language"], graph.get("category"), graph.get("status") or "", parameters,
                    graph.get("id"))


async def whatsapp_templates(session, account, now_ms: int, allowed: bool) -> dict:
    """The WABA's whole catalogue as one templates_synced event."""
    waba = account.waba_id or account.account_id
    url, found, pages = f"{account.api_base_url}/{waba}/message_templates?limit=100", [], 0
    while url and pages < MAX_PAGES:
        page = await _get(session, url, account, allowed)
        found += [definition(t) for t in page.get("data") or []]
        url, pages = (page.get("paging") or {}).get("next"), pages + 1
    if url:
        raise SyncError(f"more than {MAX_PAGES} pages of templates")
    return account_event(account, kind="templates_synced", occurred_at=now_ms, waba_id=waba, templates=found,
                         says=[now_ms, found], raw_event="message_templates", attributes={"pages": pages})


async def line_quota(session, account, now_ms: int, allowed: bool) -> dict:
    """The channel's monthly quota (None: no limit) and this month's usage as one quota_synced event."""
    quota = await _get(session, f"{account.api_base_url}/v2/bot/message/quota", account, allowed)
    used = await _get(session, f"{account.api_base_url}/v2/bot/message/quota/consumption", account, allowed)
    if quota.get("type") not in ("limited", "none") or not isinstance(used.get("totalUsage"), int):
        raise SyncError(f"unexpected quota answer {quota} / {used}")
    limit = int(quota["value"]) if quota["type"] == "limited" else None
    return account_event(account, kind="quota_synced", occurred_at=now_ms, quota_limit=limit,
                         quota_used=used["totalUsage"], says=[now_ms, limit, used["totalUsage"]],
                         raw_event="message_quota", attributes={"quota_type": quota["type"]})


SYNCS = {"whatsapp": whatsapp_templates, "line": line_quota}


async def sync_platforms(accounts, session, publisher: Publisher, codec: Codec, clock=time.time, *,
                         allow_outside: bool = False) -> list[Synced]:
    """Sync every enabled WhatsApp and LINE account, then publish the events in one unit.

    `allow_outside`: the process's setting (`settings.allow_outside_targets`; loopback only unless set).
    """
    now_ms = int(clock() * 1000)
    chosen = [a for a in accounts if a.channel in SYNCS and a.enabled]
    results = await asyncio.gather(*(_one(session, a, now_ms, allow_outside) for a in chosen))
    records = [Record(ACCOUNT_EVENTS, r.account.portfolio_key, codec.encode("account-event", r.event))
               for r in results if r.event is not None]
    if records:
        await publisher.publish(records)   # PublishError: nothing published, the caller retries
    return results


async def _one(session, account, now_ms: int, allowed: bool) -> Synced:
    if not account.api_base_url:
        return Synced(account, error="no api_base_url configured")
    try:
        return Synced(account, await SYNCS[account.channel](session, account, now_ms, allowed))
    # OutsideTarget (an aiohttp.ClientError) is the guard's refusal: its reason names the setting.
    except (SyncError, aiohttp.ClientError, asyncio.TimeoutError, KeyError, TypeError, ValueError) as exc:
        log.warning("%s/%s: platform sync failed (retried next run): %s", account.channel, account.account_id, exc)
        return Synced(account, error=str(exc) or type(exc).__name__)


async def keep_synced(accounts, session, publisher: Publisher, codec: Codec, stop: asyncio.Event,
                      interval_s: float, first_retry_s: float = 2.0, *, allow_outside: bool = False) -> None:
    """At once, then every `interval_s` until `stop`: never raises (deliver must go on). A run in
    which an account failed (the platform not up yet, as when deliver starts before it) is tried
    again sooner: after `first_retry_s`, doubling up to `interval_s`. `allow_outside` as `sync_platforms`."""
    retry = first_retry_s
    while not stop.is_set():
        failed = True
        try:
            results = await sync_platforms(accounts, session, publisher, codec, allow_outside=allow_outside)
            failed = any(r.error is not None for r in results)
            log.info("platform sync: %d accounts, %d failed", len(results), sum(r.error is not None for r in results))
        except Exception:   # noqa: BLE001 - a broker or platform outage must not stop delivery
            log.exception("platform sync failed; retried in %.0f s", min(retry, interval_s))
        delay = min(retry, interval_s) if failed else interval_s
        retry = min(retry * 2, interval_s) if failed else first_retry_s
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except asyncio.TimeoutError:
            pass


def run_once(settings, accounts) -> list[str]:
    """`switchboard admin sync-platforms`: one sync, one line per account."""
    from .publisher import PublishError

    async def once() -> list[Synced]:
        publisher = Publisher(settings.kafka_client_config(), transactional_id=None, timeout_s=10.0)
        try:
            async with aiohttp.ClientSession() as session:
                return await sync_platforms(accounts, session, publisher, Codec.from_settings(settings),
                                            allow_outside=settings.allow_outside_targets)
        finally:
            await asyncio.to_thread(publisher.close)
    try:
        results = asyncio.run(once())
    except PublishError as exc:
        from switchboard.errors import UserError

        raise UserError(f"the broker did not acknowledge the account events ({exc}): check SWITCHBOARD_KAFKA_BOOTSTRAP") from None
    return [r.line() for r in results] or ["no enabled WhatsApp or LINE accounts"]
