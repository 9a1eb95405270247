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
from switchboard.kafka import admin, consumer, producer
from switchboard.logs import setup_logging
from switchboard.observe import (Collected, ConsumerLag, CountingConsumer, CountingProducer, Metrics,
                                 add_observability, broker_reachable)
from switchboard.pricing import prices
from switchboard.settings import load_settings

from .api import api_routes
from .consumer import GROUP, Sink, sink_topics
from .http import MAX_BODY, clickhouse_routes, server_tls
from .client import NoClickHouse
from .embedded import EngineLocked
from .migrations import MigrationError, Target, migrate

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


def start_consuming(settings, store, args, failed: asyncio.Event, metrics: Metrics,
                    assigned: threading.Event) -> tuple[threading.Thread, threading.Event]:
    """The consume loop on its own thread (librdkafka calls block); `failed` is set if it dies,
    `assigned` once the group gave this sink its partitions. The consumer is used on that thread
    only: its lag is computed there after each batch, and /metrics reads the figures."""
    topics = sink_topics()
    kafka = settings.kafka_client_config()
    # The sink inserts in batches of up to batch_seconds anyway: letting the broker hold a fetch for
    # up to 100 ms (or 1 MiB) costs its facts nothing visible and spares the broker a fetch of its ~30
    # topics' partitions every few records (librdkafka's fetch.min.bytes=1 answers each at once).
    source = consumer(kafka, args.group, **{"fetch.wait.max.ms": 100, "fetch.min.bytes": 1 << 20})
    lag = ConsumerLag(args.group)
    sink = Sink(store, CountingConsumer(source, metrics, "sink", lag), CountingProducer(producer(kafka), metrics),
                topics, Codec.from_settings(settings), batch_size=args.batch_size, batch_seconds=args.batch_seconds)
    metrics.watch(lag, Collected("switchboard_sink_rows", "rows inserted into ClickHouse, per table", ["table"],
                                 lambda: [((table,), n) for table, n in list(sink.stats.by_table.items())]))

    def on_assign(kafka_consumer, partitions) -> None:
        if args.replay:
            _from_beginning(kafka_consumer, partitions)
        assigned.set()

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
    applied = migrate(store, target=Target.from_settings(settings))
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
    metrics, assigned = Metrics("sink"), threading.Event()
    app = build_app(store, engine, tokens, directory.revoked, users, auditor)
    add_observability(app, metrics, ready_checks(settings, store, None if args.no_consume else assigned),
                      token=settings.metrics_token)
    tls = settings.sink_tls_cert_file and server_tls(settings.sink_tls_cert_file, settings.sink_tls_key_file)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, settings.sink_host, settings.sink_port, ssl_context=tls or None).start()
    done, failed = asyncio.Event(), asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, done.set)
    worker = None if args.no_consume else start_consuming(settings, store, args, failed, metrics, assigned)
    scheme = "https" if tls else "http"
    print(f"sink ready: {scheme}://{settings.sink_host}:{settings.sink_port}", file=sys.stderr, flush=True)
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


def ready_checks(settings, store, assigned: threading.Event | None) -> dict:
    """/readyz of the sink: the broker answers (through an admin client of its own: the consumer is
    its thread's), the group assigned partitions (unless --no-consume), the store answers a query."""
    checks = {"broker": broker_reachable(admin(settings.kafka_client_config())),
              "store": lambda: store.query("SELECT 1") is not None}
    if assigned is not None:
        checks["partitions_assigned"] = assigned.is_set
    return checks


def main(argv: list[str]) -> int:
    """Entry point of `switchboard sink`."""
    args = parse_args(argv)
    settings = load_settings()
    setup_logging(settings, "sink")
    try:
        return asyncio.run(serve(settings, args))
    except (EngineLocked, NoClickHouse, MigrationError, UserError) as exc:
        print(f"switchboard sink: error: {exc}", file=sys.stderr)
        return 2
