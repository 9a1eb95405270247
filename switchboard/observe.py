"""Metrics and health for every role: one Prometheus registry per process, /metrics, /healthz, /readyz.

A role builds `Metrics(role)` once in its `main`, passes it where events happen, and serves it:
on its own aiohttp app with `add_observability(app, metrics, checks)` (edge, sink), or on a small
server of its own with `serve_observability` (worker, deliver: SWITCHBOARD_WORKER_PORT,
SWITCHBOARD_DELIVER_PORT). State a role already keeps in plain holders (a `Counter`, the ACD's
wait lists) is read at scrape time through `Collected` rather than counted twice. Every series is
listed in docs/operations.md, "Metrics and health".
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger("switchboard.observe")
METRICS = web.AppKey("metrics", object)
CHECK_TIMEOUT_S = 2.0   # a readiness check that hangs (a broker gone) answers "not ready", not a hung probe
# A check answers True (ready) or False; a coroutine function is awaited, a plain one run in a thread.
Check = Callable[[], bool | Awaitable[bool]]


class Metrics:
    """One process's registry and the series every role shares (label `role` on the info series)."""

    def __init__(self, role: str):
        self.role, self.registry = role, CollectorRegistry()
        r = self.registry
        Gauge("switchboard_info", "1 per process, naming its role", ["role"], registry=r).labels(role).set(1)
        self.events_in = Counter("switchboard_events_in", "records consumed (webhook events at the edge)",
                                 ["topic", "channel"], registry=r)
        self.events_out = Counter("switchboard_events_out", "records produced and acknowledged",
                                  ["topic", "channel"], registry=r)
        self.dead_letters = Counter("switchboard_dead_letters", "records sent to a dead-letter topic",
                                    ["topic"], registry=r)
        self.latency = Histogram("switchboard_processing_seconds", "a batch from consumed to committed",
                                 ["stage"], registry=r,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.http = Counter("switchboard_http_responses", "HTTP responses by channel, route and status",
                            ["channel", "route", "status"], registry=r)
        self.deliveries = Counter("switchboard_delivery_outcomes", "outbound messages finished (sent, failed, "
                                  "rejected, duplicate)", ["channel", "outcome"], registry=r)
        self.retries = Counter("switchboard_delivery_retries", "platform API calls repeated after a retriable error",
                               ["channel"], registry=r)
        self.ready = Gauge("switchboard_ready", "1 when the readiness check passed at the last /readyz",
                           ["check"], registry=r)

    def watch(self, *collectors) -> "Metrics":
        """Add collectors read at scrape time (`Collected`, `ConsumerLag`, faust's monitor's)."""
        for collector in collectors:
            self.registry.register(collector)
        return self

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)


class Collected:
    """A counter or gauge family read from a role's own state holder when Prometheus scrapes."""

    def __init__(self, name: str, doc: str, labels: list[str], read: Callable[[], Iterable[tuple[tuple, float]]],
                 kind: str = "counter"):
        self.name, self.doc, self.labels, self.read, self.kind = name, doc, labels, read, kind

    def collect(self):
        family = (CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily)(
            self.name, self.doc, labels=self.labels)
        for values, number in self.read():
            family.add_metric([str(v) for v in values], number)
        yield family


class ConsumerLag:
    """`switchboard_consumer_lag{group,topic,partition}`: high watermark minus position, for a
    confluent-kafka consumer (librdkafka's cached watermarks: no broker call at scrape time)."""

    def __init__(self, consumer, group: str):
        self.consumer, self.group = consumer, group

    def collect(self):
        family = GaugeMetricFamily("switchboard_consumer_lag", "records not yet consumed, per partition",
                                   labels=["group", "topic", "partition"])
        for tp, lag in self.lags():
            family.add_metric([self.group, tp.topic, str(tp.partition)], lag)
        yield family

    def lags(self) -> list[tuple[object, int]]:
        """(partition, lag) for each assigned partition whose position and high watermark are known."""
        try:
            parts = self.consumer.position(self.consumer.assignment())
        except RuntimeError:   # the consumer is closed (the role is stopping)
            return []
        found = []
        for tp in parts:
            _, high = self.consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                found.append((tp, max(high - tp.offset, 0)))
        return found


class Counting:
    """A confluent-kafka consumer that counts what it hands out and times each batch to its commit."""

    def __init__(self, consumer, metrics: Metrics, stage: str):
        self._consumer, self._metrics, self._stage = consumer, metrics, stage
        self._since: float | None = None

    def consume(self, *args, **kwargs):
        messages = self._consumer.consume(*args, **kwargs)
        for msg in messages:
            if msg.error() is None:
                self._metrics.events_in.labels(msg.topic(), "").inc()
        if messages and self._since is None:
            self._since = time.monotonic()
        return messages

    def commit(self, *args, **kwargs):
        result = self._consumer.commit(*args, **kwargs)
        if self._since is not None:
            self._metrics.latency.labels(self._stage).observe(time.monotonic() - self._since)
            self._since = None
        return result

    def __getattr__(self, name):
        return getattr(self._consumer, name)


def http_middleware(metrics: Metrics):
    """Count every response by channel (the `{channel}` of the route, else ""), route and status."""

    @web.middleware
    async def count_responses(request: web.Request, handler):
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Exception:
            status = 500
            raise
        finally:
            info = request.match_info
            route = info.route.resource.canonical if info.route.resource is not None else "unmatched"
            metrics.http.labels(info.get("channel", ""), route, str(status)).inc()
        return response

    return count_responses


def add_observability(app: web.Application, metrics: Metrics, checks: dict[str, Check]) -> None:
    """GET /metrics, /healthz (alive: 200) and /readyz (each of `checks`; 503 naming those not ready),
    and the HTTP-status middleware, on `app` (before it starts: middlewares freeze then)."""
    app[METRICS] = metrics
    app.middlewares.append(http_middleware(metrics))

    async def exposition(_request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def alive(_request: web.Request) -> web.Response:
        return web.json_response({"alive": True, "role": metrics.role})

    async def ready(_request: web.Request) -> web.Response:
        results = dict(zip(checks, await asyncio.gather(*(_run(check) for check in checks.values()))))
        for name, ok in results.items():
            metrics.ready.labels(name).set(1 if ok else 0)
        waiting = [name for name, ok in results.items() if not ok]
        body = {"ready": not waiting, "role": metrics.role, "checks": results, "not_ready": waiting}
        return web.json_response(body, status=503 if waiting else 200)

    app.router.add_get("/metrics", exposition)
    app.router.add_get("/healthz", alive)
    app.router.add_get("/readyz", ready)


async def _run(check: Check) -> bool:
    try:
        if inspect.iscoroutinefunction(check):
            return bool(await asyncio.wait_for(check(), CHECK_TIMEOUT_S))
        return bool(await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001 - any failure of a check means "not ready", with a reason logged
        log.debug("readiness check %s failed: %r", getattr(check, "__name__", check), exc)
        return False


async def serve_observability(metrics: Metrics, checks: dict[str, Check], host: str, port: int) -> web.AppRunner | None:
    """A small server of /metrics, /healthz and /readyz for a role without an HTTP app of its own.

    A taken port is one warning line, not the end of the role: its events keep flowing (two workers
    on one host need SWITCHBOARD_WORKER_PORT set apart, or 0 for any free port)."""
    app = web.Application()
    add_observability(app, metrics, checks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        log.warning("%s metrics and health not served: %s:%s is taken (%s); set SWITCHBOARD_%s_PORT to a free "
                    "port (0: any)", metrics.role, host, port, exc.strerror, metrics.role.upper())
        return None
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("%s metrics and health on http://%s:%s/metrics", metrics.role, host, bound)
    return runner


def broker_reachable(client, timeout: float = 1.5) -> Callable[[], bool]:
    """A check: the broker answers a metadata request through `client` (any confluent-kafka client)."""

    def broker() -> bool:
        return bool(client.list_topics(timeout=timeout).brokers)

    return broker
