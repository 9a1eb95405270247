"""The edge (`switchboard edge`): channel webhooks in — verify, normalize, publish, answer.

One route per channel account, `/webhooks/{channel}/{account_id}`, and one per platform app that
owns accounts (`/webhooks/meta/{app}`, `/webhooks/x/{app}`: a Meta app has one callback URL for
all its Pages and numbers, an X app one webhook for all its subscribed accounts; the app's secret
signs). Each entry of a verified batch goes to the account its Page / phone-number / user id names
(`connectors.edge_routing`); an entry no account there owns is counted (`unrouted.<channel>.<reason>` in the stats),
logged and acknowledged with the rest, never spoiling them. GET answers the platform's
handshake, POST is verified over the raw bytes (401 on a bad signature, nothing published; 429
once the source address spent its unsigned budget, `connectors.floods`; 413 over the size limit),
parsed (a signed body that cannot be read — or that a parser bug chokes on — goes with its raw bytes
to the dead letters and is answered 200: a 4xx would make the platform retry and finally disable
the webhook, while `switchboard dlq replay` parses it again through `replayed_events` once the
parser is fixed), published all-or-nothing (messages, statuses and account events —
`account-events`, keyed by the account's portfolio key — in one unit; 503 when the broker does not
acknowledge: the platform retries) and only then answered 200.
Logs carry channel, account and counts — never secrets or bodies.
"""
from __future__ import annotations

import argparse
import logging
import secrets
import socket
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

from channels.account import PlatformApp, apps_of
from channels.registry import rules
from schemas import Codec
from switchboard.dlq import dead_letter_record
from switchboard.localfiles import kept_once

from .base import ParseError
# The routing of a verified body's entries to their accounts is its own module; its names stay
# importable from here for the edge's callers (webmessaging, dlq replay, the tests).
from .edge_routing import (ACCOUNT_EVENTS, INBOUND, MAX_REASON_CHARS, STATUSES, Owners,  # noqa: F401
                           batch_events, replayed_events, webhook_events)
from .floods import DEFAULT_BURST, DEFAULT_RATE, Floods
from .signatures import matches
from .publisher import Publisher, PublishError
from .registry import connector
from .sending import startup_line

log = logging.getLogger("switchboard.edge")
COUNTERS = web.AppKey("counters", Counter)
MAX_BODY_BYTES = 1024 * 1024
# An app's URL: its name starts with a letter (channels.account.APP_NAME), so an X user id (digits)
# at /webhooks/x/{account_id} is never taken for one.
APP_ROUTE = "/webhooks/{platform:meta|x}/{app:[a-z][a-z0-9-]{0,62}}"


def make_app(settings, accounts, publisher: Publisher, codec: Codec, *,
             max_body_bytes: int = MAX_BODY_BYTES, clock=time.time, workspace=None,
             media=None, webmessaging=None, floods: Floods | None = None) -> web.Application:
    """The edge's aiohttp application (publisher, accounts and codec are injected, so tests can too).

    With a `connectors.workspace.Workspace` it also serves the agent API and push socket behind the
    one auth middleware (docs/workspace.md); with a `connectors.webmessaging.WebMessaging` the
    guest socket, history, uploads, deliveries and the widget (docs/channels/web.md); without
    them, only the webhooks. With `floods`, requests failing the signature beyond their source
    address's budget are answered 429 instead of 401 (verified ones never are).
    """
    counters: Counter = Counter()
    apps = apps_of(accounts)

    def lookup(request: web.Request):
        """(connector, account, app): an app's URL (`/webhooks/meta|x/{app}`) or an account's."""
        info = request.match_info
        if "app" in info:
            app = apps.get((info["platform"], info["app"]))
            if app is None:
                raise web.HTTPNotFound(text=f"no {info['platform']} app {info['app']}")
            return connector(app.channels[0]), None, app
        channel, account_id = info["channel"], info["account_id"]
        handler, account = connector(channel), accounts.get(channel, account_id)
        if handler is None or account is None or not takes_webhooks(channel):
            raise web.HTTPNotFound(text=f"no {channel} account {account_id}")
        return handler, account, None

    async def handshake(request: web.Request) -> web.Response:
        handler, account, app = lookup(request)
        answer = handler.handshake(app or account, dict(request.query))   # an app answers for its accounts
        if answer is None:
            return web.Response(status=400, text="not a handshake this channel knows")
        status, body, content_type = answer
        counters[f"handshake_{status}"] += 1
        return web.Response(status=status, text=body, content_type=content_type)

    async def receive(request: web.Request) -> web.Response:
        handler, account, app = lookup(request)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # over client_max_size: aiohttp's 413
            counters["too_large"] += 1
            raise
        where = f"app {app.platform}/{app.name}" if app else f"{account.channel}/{account.account_id}"
        if not (_app_verified(app, request.headers, body) if app else _verified(handler, account, request.headers, body)):
            if floods is not None and not floods.allow(request.remote):
                counters["flooded"] += 1
                return web.Response(status=429, text="too many unsigned requests", headers={"Retry-After": "1"})
            counters["bad_signature"] += 1
            log.warning("%s: bad or missing signature (%d bytes) from %s", where, len(body), request.remote)
            return web.Response(status=401, text="bad signature")
        received_at = int(clock() * 1000)
        owners = Owners(accounts, app, account)
        try:
            parsed, records, unrouted = batch_events(owners, body, received_at, codec)
        except ParseError as exc:
            return await _dead_letter(publisher, owners.letter(body), body, str(exc), counters, received_at)
        if records:
            try:
                await publisher.publish(records)
            except PublishError as exc:
                counters["unavailable"] += 1
                log.error("%s: broker did not acknowledge %d events: %s", where, len(records), exc)
                return web.Response(status=503, text="try again later")
            if media is not None:  # published: fetch the media in the background, never failing the webhook
                media.prefetch(parsed.messages)
        counters.update(messages=len(parsed.messages), statuses=len(parsed.statuses), echoes=parsed.echoes,
                        unsupported=parsed.unsupported, ignored=parsed.ignored, account_events=len(parsed.account_events))
        counters.update({f"unrouted.{channel}.{reason}": n for (channel, reason), n in unrouted.items()})
        log.info("%s: %d messages, %d statuses, %d account events, %d echoes, %d unsupported, %d ignored, "
                 "%d unrouted", where, len(parsed.messages), len(parsed.statuses), len(parsed.account_events),
                 parsed.echoes, parsed.unsupported, parsed.ignored, sum(unrouted.values()))
        return web.Response(text="EVENT_RECEIVED")

    async def stats(request: web.Request) -> web.Response:
        # Counters reveal every tenant's traffic: loopback callers (an operator, a local scraper) or
        # an admin's token (the workspace's middleware reads it; the path is public to reach here).
        from switchboard.observe import local_or_admin

        if not local_or_admin(request):
            return web.json_response({"error": "stats are for loopback callers or an admin's token"}, status=403)
        return web.json_response(dict(counters))

    app = web.Application(client_max_size=max_body_bytes)
    app[COUNTERS] = counters
    app.add_routes([web.get(APP_ROUTE, handshake), web.post(APP_ROUTE, receive),   # before the accounts' route
                    web.get("/webhooks/{channel}/{account_id}", handshake),
                    web.post("/webhooks/{channel}/{account_id}", receive),
                    web.get("/edge/stats", stats)])
    if media is not None:  # GET /media/{key} by signed URL (connectors.media)
        media.mount(app)
    if workspace is not None:
        from .workspace import mount

        mount(app, workspace, media)
    if webmessaging is not None:
        from .webmessaging import mount as mount_webmessaging

        mount_webmessaging(app, webmessaging)
    return app


def takes_webhooks(channel: str) -> bool:
    """Whether a platform calls `/webhooks/{channel}/…` (web's guest socket is its own way in)."""
    return rules(channel).signature is not None


def _app_verified(app: PlatformApp, headers, body: bytes) -> bool:
    """The app's signature over the body: the scheme its channels declare (Meta's are one), its secrets."""
    scheme = rules(app.channels[0]).signature
    try:
        return matches(headers.get(scheme.header), app.signing_secrets(), body, scheme.render)
    except (UnicodeError, ValueError, TypeError) as exc:
        log.warning("app %s/%s: unreadable signature header: %s", app.platform, app.name, type(exc).__name__)
        return False


def _verified(handler, account, headers, body: bytes) -> bool:
    """The connector's verdict; a header it cannot even read (bytes that are not UTF-8) is no signature."""
    try:
        return handler.verify(account, headers, body)
    except (UnicodeError, ValueError, TypeError) as exc:
        log.warning("%s/%s: unreadable signature header: %s", account.channel, account.account_id, type(exc).__name__)
        return False


async def _dead_letter(publisher, letter: tuple[str, list], body: bytes, reason: str, counters,
                       received_at_ms: int) -> web.Response:
    """The raw body to inbound-messages-dlq with provenance, then 200 (503 if that fails too)."""
    reason = reason[:MAX_REASON_CHARS]
    key, context = letter
    dead = dead_letter_record(INBOUND, key, body, stage="edge.parse", error=reason, headers=context,
                              now_ms=received_at_ms)
    try:
        await publisher.publish([dead])
    except PublishError:
        counters["unavailable"] += 1
        return web.Response(status=503, text="try again later")
    counters["dead_letters"] += 1
    log.warning("%s: malformed payload dead-lettered: %s", key, reason)
    return web.Response(text=f"malformed payload kept for replay: {reason}")


def main(argv: list[str]) -> int:
    """`switchboard edge`: serve the webhooks until SIGTERM/Ctrl-C."""
    from switchboard.accounts import WithDeployments, load_accounts
    from switchboard.kafka import require_broker
    from switchboard.settings import load_settings

    from .media import edge_media
    from .webmessaging import build as build_webmessaging
    from .webmessaging import limits as guest
    from .workspace import build as build_workspace

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="switchboard edge", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.edge_host)
    parser.add_argument("--port", type=int, default=settings.edge_port)
    parser.add_argument("--transactional-id", help="stable per edge replica (default: switchboard-edge-"
                        "<host name>-<port>-<instance id kept in the data directory>)")
    parser.add_argument("--no-transactions", action="store_true",
                        help="plain idempotent produce instead of one Kafka transaction per group commit")
    parser.add_argument("--publish-timeout", type=float, default=5.0, help="seconds before answering 503")
    parser.add_argument("--max-body-kb", type=int, default=MAX_BODY_BYTES // 1024, help="larger bodies get 413")
    parser.add_argument("--unsigned-rate", type=float, default=DEFAULT_RATE,
                        help="requests/s per source address failing the signature before 429 (verified: unlimited)")
    parser.add_argument("--unsigned-burst", type=int, default=DEFAULT_BURST, help="burst of those requests")
    parser.add_argument("--guest-session-rate", type=float, default=guest.SESSION_RATE,
                        help="new web chat sessions/s per source address before rate_limited (resumed: unlimited)")
    parser.add_argument("--guest-session-burst", type=int, default=guest.SESSION_BURST, help="burst of those")
    parser.add_argument("--guest-sockets", type=int, default=guest.MAX_SOCKETS,
                        help="open web chat sockets per source address before 429")
    parser.add_argument("--guest-request-rate", type=float, default=guest.REQUEST_RATE,
                        help="web chat history and upload requests/s per source address before 429")
    parser.add_argument("--guest-request-burst", type=int, default=guest.REQUEST_BURST, help="burst of those")
    parser.add_argument("--no-workspace", action="store_true", help="only the webhooks: no agent API, no socket")
    args = parser.parse_args(argv)
    guest_budgets = guest.guest_floods(args.guest_session_rate, args.guest_session_burst, args.guest_sockets,
                                       args.guest_request_rate, args.guest_request_burst)   # refused: before Kafka
    file_accounts = load_accounts(settings.accounts_file)   # a broken file: its one line, before any broker
    require_broker(settings.kafka_client_config())          # a broker down: one line naming the fix, exit 1
    from switchboard.logs import setup_logging
    from switchboard.observe import CountingPublisher, Metrics

    setup_logging(settings, "edge")
    log.info("%s", startup_line(settings.allow_outside_targets))   # the edge fetches inbound media from the platforms
    _use_uvloop()
    txn_id = None if args.no_transactions else (args.transactional_id or default_transactional_id(settings.data_dir, args.port))
    metrics = Metrics("edge")   # what the edge publishes counted under the request's channel: /metrics
    publisher = CountingPublisher(Publisher(settings.kafka_client_config(), transactional_id=txn_id,
                                            timeout_s=args.publish_timeout), metrics, inbound=True)
    codec = Codec.from_settings(settings)
    workspace = None if args.no_workspace else build_workspace(settings, publisher, codec)
    directory = workspace.directory if workspace is not None else _directory(settings, codec)
    accounts = WithDeployments(file_accounts, directory)   # web: one per deployment
    media = edge_media(settings, accounts)
    webmessaging = build_webmessaging(settings, publisher, codec, directory, media,
                                      workspace.clickhouse if workspace is not None else None, guest_budgets)
    app = make_app(settings, accounts, publisher, codec, max_body_bytes=args.max_body_kb * 1024,
                   workspace=workspace, media=media, webmessaging=webmessaging,
                   floods=Floods(args.unsigned_rate, args.unsigned_burst))
    _observed(app, settings, metrics)
    app.on_cleanup.append(lambda _app: _close(publisher))
    if workspace is not None:
        app.on_startup.append(lambda _app: _caught_up(workspace))
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


def default_transactional_id(data_dir: Path, port: int, hostname: str | None = None) -> str:
    """`switchboard-edge-<host name>-<port>-<instance>`: unique per replica, stable across its restarts.

    Not the bind address: every container binds 0.0.0.0:8080, and replicas sharing one
    transactional id fence each other. The instance id is random, kept in
    `<data_dir>/edge-instance-id`; a restarted replica takes its own id back, which fences the
    producer of its previous life. Replicas differ by host name, or by data directory on one host.
    """
    return f"switchboard-edge-{hostname or socket.gethostname()}-{port}-{_instance_id(Path(data_dir))}"


def _instance_id(data_dir: Path) -> str:
    return kept_once(data_dir, "edge-instance-id", lambda: secrets.token_hex(6), private=False)


def _directory(settings, codec):
    """A directory view of its own when the workspace (which has one) is off."""
    from switchboard.directory import DirectoryView

    view = DirectoryView(settings.kafka_client_config(), codec).start()
    view.wait_ready(60)
    return view


def _observed(app: web.Application, settings, metrics) -> None:
    """/metrics, /healthz and /readyz on the edge's app (switchboard/observe.py): HTTP statuses per
    channel, the events published, the edge's own counters; ready while the broker answers."""
    from channels.registry import CHANNELS
    from switchboard.kafka import admin
    from switchboard.observe import Collected, add_observability, broker_reachable

    counters = app[COUNTERS]
    metrics.watch(Collected("switchboard_edge_requests", "the edge's counters: messages, statuses, bad_signature, "
                            "flooded, too_large, unavailable, unrouted.<channel>.<reason>…", ["what"],
                            lambda: [((what,), n) for what, n in list(counters.items())]))
    add_observability(app, metrics, {"broker": broker_reachable(admin(settings.kafka_client_config()))},
                      channels=frozenset(CHANNELS) | {"meta", "x"}, token=settings.metrics_token)


async def _close(publisher: Publisher) -> None:
    import asyncio

    await asyncio.to_thread(publisher.close)


async def _caught_up(workspace) -> None:
    """Serve only once the book holds every agent-notifications event already on the topic, and the
    policy views every view (else the policy API would answer 404 for a conversation it has)."""
    import asyncio

    if not await asyncio.to_thread(workspace.tailer.wait_ready, 120):
        log.warning("agent-notifications not read to the end in 120 s: offers may be missing until it is")
    if not await asyncio.to_thread(workspace.policies.wait_ready, 60):
        log.warning("policy-views not read to the end in 60 s: the policy API may answer 404 until it is")


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    import asyncio

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
