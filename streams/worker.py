"""`switchboard worker`: run the stream processors (a faust worker under uvloop).

Its metrics and health are served from the worker's own loop on SWITCHBOARD_WORKER_PORT (faust's
web server is off): faust's Prometheus sensor (`faust.sensors.prometheus`, works with
prometheus-client 0.26) counts messages and events per topic, latency, sends, commits and
rebalances as `faust_*` in the role's registry; the `switchboard_*` series are read from the
processors' own counters, the records each handler returns (events out per topic and channel, the
ACD's decisions), the consumer positions the sensor keeps, and the ACD's wait lists
(docs/operations.md, "Metrics and health").
"""
from __future__ import annotations

import argparse
import importlib
import logging
import socket
import sys
from collections import Counter, defaultdict
from pathlib import Path

from schemas import Codec
from switchboard.logs import logging_config
from switchboard.observe import Collected, Metrics, broker_reachable, serve_observability
from switchboard.settings import load_settings

from .processors import PROCESSORS

log = logging.getLogger("streams.worker")
READY = "streams worker ready"   # tests and supervisors wait for this line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard worker", description=__doc__)
    parser.add_argument("--name", default=socket.gethostname(),
                        help="this worker's stable name: its data dir and static group membership")
    parser.add_argument("--store", default="rocksdb://", help="table store (memory:// for throwaway runs)")
    parser.add_argument("--app-id", default=None,
                        help="consumer group / app id (default switchboard); separate ids share no offsets")
    parser.add_argument("--processors", default=None,
                        help="comma-separated processor modules (default: streams/processors.py)")
    parser.add_argument("--expiry-interval", type=float, default=30.0,
                        help="seconds between inactivity scans of the conversation table")
    parser.add_argument("--loglevel", default=None, help="default: SWITCHBOARD_LOG_LEVEL")
    return parser


def main(argv: list[str]) -> int:
    """Configure the app, import the processors, run the worker until SIGTERM/SIGINT."""
    args = _parser().parse_args(argv)
    settings = load_settings()
    import faust
    import mode.loop

    mode.loop.use("uvloop")            # faust's `-L uvloop`: must precede any event loop
    from .app import configure
    from .faults import Fault
    from switchboard.directory import DirectoryView

    from .processor import Wiring
    from .routing.sources import DirectoryConfigs

    app = configure(settings, worker_name=args.name, store=args.store)
    if args.app_id:
        app.conf.id = args.app_id
        app.conf.consumer_group_instance_id = f"{args.app_id}-{args.name}"
    Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)   # faust creates only the last level
    codec = Codec.from_settings(settings)
    directory = DirectoryView(settings.kafka_client_config(), codec).start()
    directory.wait_ready(60)      # routing must not start on an empty roster
    wiring = Wiring(settings, args, codec, Fault.parse(settings.fault_point), directory,
                    DirectoryConfigs(directory, settings.routing_dir))
    if settings.fault_point:
        log.warning("fault injection on: %s (tests only)", settings.fault_point)
    for name in args.processors.split(",") if args.processors else PROCESSORS:
        module = importlib.import_module(name)
        if hasattr(module, "setup"):
            module.setup(wiring)

    assigned = []   # non-empty from a completed rebalance until partitions are revoked

    async def ready(sender=None, **kwargs) -> None:
        assigned[:] = [True]
        log.info("%s: %s, partitions %s", READY, args.name,
                 sorted({tp.partition for tp in app.consumer.assignment()}) if app.consumer else [])

    async def revoked(sender=None, *args, **kwargs) -> None:
        assigned.clear()

    app.on_rebalance_complete.connect(ready)
    app.on_partitions_revoked.connect(revoked)
    observability = observe(app, settings, lambda: bool(assigned))
    logs = logging_config(settings, "worker")
    logs["root"]["level"] = args.loglevel or settings.log_level
    worker = faust.Worker(app, observability, loglevel=args.loglevel or settings.log_level, quiet=True,
                          logging_config=logs)
    worker.execute_from_commandline()   # exits the process with the worker's exit code
    return 0


PROCESSOR_SERIES = {"events": "events a processor handled", "outputs": "records it produced (acknowledged)",
                    "dead_letters": "events it dead-lettered", "retries": "handler attempts repeated"}


def observe(app, settings, ready):
    """The worker's registry (faust's sensor on `app`, our series) and the service serving it on the
    worker's port: a child of the faust Worker, up from its start (faust's own tasks wait for table
    recovery, and a liveness probe must not). `ready()`: partitions assigned since the last rebalance."""
    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
    from mode import Service

    from switchboard.kafka import admin

    metrics = Metrics("worker")
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(metrics.registry, "faust"))
    decisions: Counter = Counter()   # (tenant, kind) of each routing-decisions record
    for processor in processors(app):
        processor._handle = _counting(processor._handle, metrics, decisions)
    metrics.watch(*(Collected(f"switchboard_processor_{key}", doc, ["processor"], _per_processor(app, key))
                    for key, doc in PROCESSOR_SERIES.items()),
                  Collected("switchboard_consumer_lag", "records not yet committed, per partition",
                            ["group", "topic", "partition"], lambda: _lags(app), kind="gauge"),
                  Collected("switchboard_acd_queue_depth", "conversations waiting in a queue (this worker's "
                            "routing domains)", ["tenant", "queue"], _queue_depths, kind="gauge"),
                  Collected("switchboard_acd_decisions", "routing decisions the ACD made, per tenant and kind",
                            ["tenant", "kind"], lambda: list(decisions.items())))
    checks = {"broker": broker_reachable(admin(settings.kafka_client_config())),
              "partitions_assigned": ready,
              "tables_recovered": lambda: app.tables.recovery.completed.is_set()}

    class Observability(Service):
        runner = None

        async def on_start(self) -> None:
            self.runner = await serve_observability(metrics, checks, settings.worker_host, settings.worker_port,
                                                    token=settings.metrics_token)

        async def on_stop(self) -> None:
            if self.runner is not None:
                await self.runner.cleanup()

    return Observability()


def _counting(handle, metrics: Metrics, decisions: Counter):
    """A processor's `_handle`, counting the records each event yields: per topic and channel (dead
    letters apart), and the ACD's routing decisions per tenant and kind."""
    from streams.routing.outputs import DECISIONS

    async def counted(event):
        records = await handle(event)
        for record in records:
            value = record.value if isinstance(record.value, dict) else {}
            metrics.count_out(record.topic, str(value.get("channel") or ""))
            if record.topic == DECISIONS:
                decisions[(value.get("tenant_id", ""), value.get("kind", ""))] += 1
        return records

    return counted


def processors(app) -> list:
    """The Processors behind the app's agents (each registers its bound `_agent`)."""
    from .processor import Processor

    found = (getattr(agent.fun, "__self__", None) for agent in app.agents.values())
    return [p for p in found if isinstance(p, Processor)]


def _per_processor(app, key: str):
    return lambda: [((p.name,), p.metrics[key]) for p in processors(app)]


def _lags(app) -> list[tuple[tuple, float]]:
    """End offset minus committed offset for the partitions whose both the sensor has seen."""
    monitor = app.monitor
    ends, committed = monitor.tp_end_offsets or {}, monitor.tp_committed_offsets or {}
    return [((app.conf.id, tp.topic, tp.partition), max(end - committed[tp], 0))
            for tp, end in list(ends.items()) if tp in committed]


def _queue_depths() -> list[tuple[tuple, float]]:
    """Waiting conversations per (tenant, queue), summed over the tenant's routing domains here."""
    routing = sys.modules.get("streams.routing.agent")   # only when the worker runs the routing processor
    router = routing.Runtime.router if routing is not None else None
    depths: dict[tuple, int] = defaultdict(int)
    for domain in list(router.states.values()) if router is not None else []:
        for queue, waiting in list(domain.waiting.items()):
            depths[(domain.tenant, queue)] += len(waiting)
    return list(depths.items())
