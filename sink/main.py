"""`switchboard sink`: Kafka facts into ClickHouse, ClickHouse's HTTP interface, the report API.

Without SWITCHBOARD_CLICKHOUSE_URL this process owns the embedded engine (<data dir>/clickhouse)
and answers ClickHouse's HTTP interface for everyone else; with it, it writes to that server and
serves only the report API.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading

from aiohttp import web

from schemas import Codec
from switchboard.errors import UserError
from switchboard.kafka import consumer, producer
from switchboard.pricing import prices
from switchboard.settings import load_settings

from .api import api_routes
from .consumer import GROUP, Sink, sink_topics
from .http import MAX_BODY, clickhouse_routes
from .client import NoClickHouse
from .embedded import EngineLocked
from .migrations import MigrationError, migrate

log = logging.getLogger("switchboard.sink")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The sink's command line."""
    parser = argparse.ArgumentParser(prog="switchboard sink", description=__doc__)
    parser.add_argument("--group", default=GROUP, help="consumer group (default %(default)s)")
    parser.add_argument("--replay", action="store_true",
                        help="read every topic from offset 0 (the tables absorb the replay)")
    parser.add_argument("--batch-size", type=int, default=5000, help="records per insert batch")
    parser.add_argument("--batch-seconds", type=float, default=0.5, help="longest wait to fill a batch")
    parser.add_argument("--no-consume", action="store_true", help="only serve queries")
    return parser.parse_args(argv)


def open_store(settings):
    """(store, embedded engine or None): the server when configured, else the owned chdb."""
    from .client import connect
    from .embedded import EmbeddedClickHouse
    from .store import EmbeddedStore, ServerStore

    if settings.clickhouse_url:
        return ServerStore(connect(settings)), None
    engine = EmbeddedClickHouse(settings.data_dir / "clickhouse")
    return EmbeddedStore(engine), engine


def build_app(store, engine, tokens, revoked, users=None, audit=None) -> web.Application:
    """The sink's HTTP app: ClickHouse's interface (embedded mode, for `users`: sink.client.embedded_users)
    and the report API (signed-in; its reads audited by `audit`, sink.audit.Auditor)."""
    app = web.Application(client_max_size=MAX_BODY)
    if engine is not None:
        clickhouse_routes(app, engine, users)
    api_routes(app, store, tokens, revoked, audit)
    return app


def start_consuming(settings, store, args, failed: asyncio.Event) -> tuple[threading.Thread, threading.Event]:
    """The consume loop on its own thread (librdkafka calls block); `failed` is set if it dies."""
    topics = sink_topics()
    kafka = settings.kafka_client_config()
    source = consumer(kafka, args.group)
    sink = Sink(store, source, producer(kafka), topics, Codec.from_settings(settings),
                batch_size=args.batch_size, batch_seconds=args.batch_seconds)
    on_assign = _from_beginning if args.replay else (lambda c, parts: None)
    source.subscribe(list(topics), on_assign=on_assign)
    stop, loop = threading.Event(), asyncio.get_running_loop()

    def work() -> None:
        try:
            sink.run(stop)
        except Exception:
            log.exception("the sink stopped on an error it cannot skip (offsets not committed)")
            loop.call_soon_threadsafe(failed.set)
        finally:
            source.close()
            log.info("sink stopped: %s", sink.stats)

    thread = threading.Thread(target=work, name="sink-consumer", daemon=True)
    thread.start()
    log.info("consuming %s as group %s", ", ".join(topics), args.group)
    return thread, stop


def _from_beginning(kafka_consumer, partitions) -> None:
    from confluent_kafka import OFFSET_BEGINNING

    for p in partitions:
        p.offset = OFFSET_BEGINNING
    kafka_consumer.assign(partitions)


async def serve(settings, args) -> int:
    """Run until SIGTERM/SIGINT (0) or until the consume loop fails (1)."""
    prices()  # the WhatsApp price table, validated before any status is priced (a mistake refuses the start)
    store, engine = open_store(settings)
    applied = migrate(store)
    log.info("migrations applied: %s", ", ".join(applied) or "none pending")
    from switchboard.auth import Tokens, secret
    from switchboard.directory import DirectoryView

    # Not waited for: the sink serves ClickHouse to the other roles from the start; sign-outs
    # apply once the view has read the directory.
    directory = DirectoryView(settings.kafka_client_config(), Codec.from_settings(settings)).start()
    from .client import embedded_users

    tokens = Tokens(secret(settings), settings.session_hours * 3600)
    users = embedded_users(settings) if engine is not None else None
    from .audit import Auditor

    auditor = Auditor(settings.kafka_client_config(), Codec.from_settings(settings))
    runner = web.AppRunner(build_app(store, engine, tokens, directory.revoked, users, auditor), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.sink_host, settings.sink_port).start()
    done, failed = asyncio.Event(), asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, done.set)
    worker = None if args.no_consume else start_consuming(settings, store, args, failed)
    print(f"sink ready: http://{settings.sink_host}:{settings.sink_port}", file=sys.stderr, flush=True)
    await asyncio.wait([asyncio.create_task(done.wait()), asyncio.create_task(failed.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if worker:
        worker[1].set()
        await asyncio.to_thread(worker[0].join, 30)
    await runner.cleanup()
    await asyncio.to_thread(auditor.close)
    await asyncio.to_thread(directory.close)
    if engine is not None:
        engine.close()
    return 1 if failed.is_set() else 0


def main(argv: list[str]) -> int:
    """Entry point of `switchboard sink`."""
    args = parse_args(argv)
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return asyncio.run(serve(settings, args))
    except (EngineLocked, NoClickHouse, MigrationError, UserError) as exc:
        print(f"switchboard sink: error: {exc}", file=sys.stderr)
        return 2
