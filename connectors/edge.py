"""The edge (`switchboard edge`): channel webhooks in — verify, normalize, publish, answer.

One route per channel account, `/webhooks/{channel}/{account_id}`: GET answers the platform's
handshake, POST is verified over the raw bytes (401 on a bad signature, nothing published),
parsed (400 and a dead letter with the raw bytes when it cannot be read; `switchboard dlq replay`
parses it again through `replayed_events` once the parser is fixed), published all-or-nothing
(503 when the broker does not acknowledge: the platform retries) and only then answered 200.
Logs carry channel, account and counts — never secrets or bodies.
"""
from __future__ import annotations

import argparse
import logging
import time
from collections import Counter

from aiohttp import web

from channels.registry import rules
from schemas import Codec, topic
from switchboard.dlq import dead_letter_record

from .base import Parsed, ParseError
from .publisher import Publisher, PublishError, Record
from .registry import connector

log = logging.getLogger("switchboard.edge")
INBOUND, STATUSES = topic("inbound-messages").name, topic("delivery-status").name
COUNTERS = web.AppKey("counters", Counter)
MAX_BODY_BYTES = 1024 * 1024


def make_app(settings, accounts, publisher: Publisher, codec: Codec, *,
             max_body_bytes: int = MAX_BODY_BYTES, clock=time.time, workspace=None,
             media=None, webmessaging=None) -> web.Application:
    """The edge's aiohttp application (publisher, accounts and codec are injected, so tests can too).

    With a `connectors.workspace.Workspace` it also serves the agent API and push socket behind the
    one auth middleware (docs/workspace.md); with a `connectors.webmessaging.WebMessaging` the
    guest socket, history, uploads, deliveries and the widget (docs/channels/web.md); without
    them, only the webhooks.
    """
    counters: Counter = Counter()

    def lookup(request: web.Request):
        channel, account_id = request.match_info["channel"], request.match_info["account_id"]
        handler, account = connector(channel), accounts.get(channel, account_id)
        if handler is None or account is None or not takes_webhooks(channel):
            raise web.HTTPNotFound(text=f"no {channel} account {account_id}")
        return handler, account

    async def handshake(request: web.Request) -> web.Response:
        handler, account = lookup(request)
        answer = handler.handshake(account, dict(request.query))
        if answer is None:
            return web.Response(status=400, text="not a handshake this channel knows")
        status, body, content_type = answer
        counters[f"handshake_{status}"] += 1
        return web.Response(status=status, text=body, content_type=content_type)

    async def receive(request: web.Request) -> web.Response:
        handler, account = lookup(request)
        body = await request.read()  # over client_max_size: aiohttp answers 413
        where = f"{account.channel}/{account.account_id}"
        if not handler.verify(account, request.headers, body):
            counters["bad_signature"] += 1
            log.warning("%s: bad or missing signature (%d bytes) from %s", where, len(body), request.remote)
            return web.Response(status=401, text="bad signature")
        received_at = int(clock() * 1000)
        try:
            parsed, records = webhook_events(handler, account, body, received_at, codec)
        except ParseError as exc:
            return await _dead_letter(publisher, account, body, str(exc), counters, received_at)
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
                        unsupported=parsed.unsupported, ignored=parsed.ignored)
        log.info("%s: %d messages, %d statuses, %d echoes, %d unsupported, %d ignored", where,
                 len(parsed.messages), len(parsed.statuses), parsed.echoes, parsed.unsupported, parsed.ignored)
        return web.Response(text="EVENT_RECEIVED")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(dict(counters))

    app = web.Application(client_max_size=max_body_bytes)
    app[COUNTERS] = counters
    app.add_routes([web.get("/webhooks/{channel}/{account_id}", handshake),
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


def webhook_events(handler, account, body: bytes, received_at_ms: int, codec: Codec) -> tuple[Parsed, list[Record]]:
    """A verified body parsed, its events encoded and keyed as the edge publishes them (or ParseError)."""
    parsed = handler.parse(account, body, received_at_ms)
    records = [Record(INBOUND, m["thread_key"], codec.encode("inbound-message", m)) for m in parsed.messages]
    records += [Record(STATUSES, s["thread_key"], codec.encode("delivery-status", s)) for s in parsed.statuses]
    return parsed, records


def replayed_events(accounts, codec: Codec, body: bytes, headers: dict[str, str]) -> list[Record]:
    """The events a dead-lettered webhook body gives with today's parser (ParseError while it still cannot).

    Not verified again: the signature was checked before the body was dead-lettered (`receive`
    verifies, then parses), and the secret may have been rotated since. `Connector.parse` reads
    the body alone, so the channel and account id headers are all the dead letter must carry; its
    `time` is when the webhook arrived, so the events are the ones the live webhook would have given.
    """
    channel, account_id = headers.get("channel", ""), headers.get("channel_account_id", "")
    handler, account = connector(channel), accounts.get(channel, account_id)
    if handler is None or account is None:
        raise ParseError(f"no {channel} account {account_id} is configured")
    return webhook_events(handler, account, body, int(headers["time"]), codec)[1]


async def _dead_letter(publisher, account, body: bytes, reason: str, counters, received_at_ms: int) -> web.Response:
    """The raw body to inbound-messages-dlq with provenance, then 400 (503 if that fails too)."""
    context = [("channel", account.channel.encode()), ("channel_account_id", account.account_id.encode())]
    dead = dead_letter_record(INBOUND, f"{account.tenant_id}:{account.channel}:{account.account_id}", body,
                              stage="edge.parse", error=reason, headers=context, now_ms=received_at_ms)
    try:
        await publisher.publish([dead])
    except PublishError:
        counters["unavailable"] += 1
        return web.Response(status=503, text="try again later")
    counters["dead_letters"] += 1
    log.warning("%s/%s: malformed payload dead-lettered: %s", account.channel, account.account_id, reason)
    return web.Response(status=400, text=f"malformed payload: {reason}")


def main(argv: list[str]) -> int:
    """`switchboard edge`: serve the webhooks until SIGTERM/Ctrl-C."""
    from switchboard.accounts import WithDeployments, load_accounts
    from switchboard.settings import load_settings

    from .media import edge_media
    from .webmessaging import build as build_webmessaging
    from .workspace import build as build_workspace

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="switchboard edge", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.edge_host)
    parser.add_argument("--port", type=int, default=settings.edge_port)
    parser.add_argument("--transactional-id", help="stable per edge instance (default: edge-<host>-<port>)")
    parser.add_argument("--no-transactions", action="store_true",
                        help="plain idempotent produce instead of one Kafka transaction per group commit")
    parser.add_argument("--publish-timeout", type=float, default=5.0, help="seconds before answering 503")
    parser.add_argument("--max-body-kb", type=int, default=MAX_BODY_BYTES // 1024, help="larger bodies get 413")
    parser.add_argument("--no-workspace", action="store_true", help="only the webhooks: no agent API, no socket")
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    _use_uvloop()
    txn_id = None if args.no_transactions else (args.transactional_id or f"switchboard-edge-{args.host}-{args.port}")
    publisher = Publisher(settings.kafka_client_config(), transactional_id=txn_id, timeout_s=args.publish_timeout)
    codec = Codec.from_settings(settings)
    workspace = None if args.no_workspace else build_workspace(settings, publisher, codec)
    directory = workspace.directory if workspace is not None else _directory(settings, codec)
    accounts = WithDeployments(load_accounts(settings.accounts_file), directory)   # web: one per deployment
    media = edge_media(settings, accounts)
    webmessaging = build_webmessaging(settings, publisher, codec, directory, media,
                                      workspace.clickhouse if workspace is not None else None)
    app = make_app(settings, accounts, publisher, codec, max_body_bytes=args.max_body_kb * 1024,
                   workspace=workspace, media=media, webmessaging=webmessaging)
    app.on_cleanup.append(lambda _app: _close(publisher))
    if workspace is not None:
        app.on_startup.append(lambda _app: _caught_up(workspace))
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)
    return 0


def _directory(settings, codec):
    """A directory view of its own when the workspace (which has one) is off."""
    from switchboard.directory import DirectoryView

    view = DirectoryView(settings.kafka_client_config(), codec).start()
    view.wait_ready(60)
    return view


async def _close(publisher: Publisher) -> None:
    import asyncio

    await asyncio.to_thread(publisher.close)


async def _caught_up(workspace) -> None:
    """Serve only once the book holds every agent-notifications event already on the topic."""
    import asyncio

    if not await asyncio.to_thread(workspace.tailer.wait_ready, 120):
        log.warning("agent-notifications not read to the end in 120 s: offers may be missing until it is")


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    import asyncio

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
