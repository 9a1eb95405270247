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
import contextvars
import hmac
import inspect
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger("switchboard.observe")
# The `{channel}` (or `{platform}`) of the request being handled: set by the HTTP middleware, read by
# `CountingPublisher` so what a webhook publishes is counted under its channel.
CHANNEL: contextvars.ContextVar[str] = contextvars.ContextVar("channel", default="")
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
        self.events_out = Counter("switchboard_events_out", "records produced (dead letters: switchboard_dead_letters)",
                                  ["topic", "channel"], registry=r)
        self.dead_letters = Counter("switchboard_dead_letters", "records sent to a dead-letter topic",
                                    ["topic"], registry=r)
        self.latency = Histogram("switchboard_processing_seconds", "a batch from consumed to committed",
                                 ["stage"], registry=r,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.http = Counter("switchboard_http_responses", "HTTP responses by channel, route and status",
                            ["channel", "route", "status"], registry=r)
        self.ready = Gauge("switchboard_ready", "1 when the readiness check passed at the last /readyz",
                           ["check"], registry=r)

    def count_out(self, topic: str, channel: str = "", n: int = 1) -> None:
        """`n` records produced to `topic`: a dead-letter topic's count apart."""
        if topic.endswith("-dlq"):
            self.dead_letters.labels(topic).inc(n)
        else:
            self.events_out.labels(topic, channel).inc(n)

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
    """`switchboard_consumer_lag{group,topic,partition}`: high watermark minus position per assigned
    partition of a confluent-kafka consumer.

    A consumer is not safe to call from two threads, so the lag is computed where the consumer is
    used — `refresh()` after each batch, from librdkafka's cached watermarks (no broker call) — and
    the scrape only reads the last figures."""

    def __init__(self, group: str):
        self.group = group
        self._lags: dict[tuple[str, int], int] = {}

    def refresh(self, consumer) -> None:
        """Recompute from `consumer` (call on the thread that consumes)."""
        lags = {}
        for tp in consumer.position(consumer.assignment()):
            _, high = consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                lags[(tp.topic, tp.partition)] = max(high - tp.offset, 0)
        self._lags = lags   # one assignment: the scrape sees the old dict or the new one

    def collect(self):
        family = GaugeMetricFamily("switchboard_consumer_lag", "records not yet consumed, per partition",
                                   labels=["group", "topic", "partition"])
        for (topic, partition), lag in sorted(self._lags.items()):
            family.add_metric([self.group, topic, str(partition)], lag)
        yield family


class CountingConsumer:
    """A confluent-kafka consumer that counts what it hands out, times each batch to its commit and
    refreshes its `ConsumerLag` after each batch — all on the thread that consumes."""

    def __init__(self, consumer, metrics: Metrics, stage: str, lag: ConsumerLag | None = None):
        self._consumer, self._metrics, self._stage, self._lag = consumer, metrics, stage, lag
        self._since: float | None = None

    def consume(self, *args, **kwargs):
        messages = self._consumer.consume(*args, **kwargs)
        for msg in messages:
            if msg.error() is None:
                self._metrics.events_in.labels(msg.topic(), "").inc()
        if messages and self._since is None:
            self._since = time.monotonic()
        if self._lag is not None:
            self._lag.refresh(self._consumer)
        return messages

    def commit(self, *args, **kwargs):
        result = self._consumer.commit(*args, **kwargs)
        if self._since is not None:
            self._metrics.latency.labels(self._stage).observe(time.monotonic() - self._since)
            self._since = None
        return result

    def __getattr__(self, name):
        return getattr(self._consumer, name)


class CountingProducer:
    """A confluent-kafka producer that counts what it produces: dead letters apart (`<topic>-dlq`)."""

    def __init__(self, producer, metrics: Metrics):
        self._producer, self._metrics = producer, metrics

    def produce(self, topic: str, *args, **kwargs):
        result = self._producer.produce(topic, *args, **kwargs)
        self._metrics.count_out(topic)
        return result

    def __getattr__(self, name):
        return getattr(self._producer, name)


class CountingPublisher:
    """An async publisher (`publish(records)`, each with a `.topic`) counting what the broker
    acknowledged: `switchboard_events_in` at the edge (webhook events, under the request's channel),
    `switchboard_events_out` elsewhere (dead letters apart)."""

    def __init__(self, publisher, metrics: Metrics, *, inbound: bool = False):
        self._publisher, self._metrics, self._inbound = publisher, metrics, inbound

    async def publish(self, records, *args, **kwargs):
        result = await self._publisher.publish(records, *args, **kwargs)
        channel = CHANNEL.get()
        for record in records:
            if self._inbound and not record.topic.endswith("-dlq"):
                self._metrics.events_in.labels(record.topic, channel).inc()
            else:
                self._metrics.count_out(record.topic, channel)
        return result

    def __getattr__(self, name):
        return getattr(self._publisher, name)


def http_middleware(metrics: Metrics, channels: frozenset[str] | None = None):
    """Count every response by channel (the route's `{channel}` or `{platform}`, else ""; one not in
    `channels` as "unknown", so a scan of made-up URLs adds no series), route and status."""

    @web.middleware
    async def count_responses(request: web.Request, handler):
        info = request.match_info
        channel = info.get("channel") or info.get("platform", "")
        CHANNEL.set("unknown" if channel and channels is not None and channel not in channels else channel)
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
            route = info.route.resource.canonical if info.route.resource is not None else "unmatched"
            metrics.http.labels(CHANNEL.get(), route, str(status)).inc()
        return response

    return count_responses


def local_or_admin(request: web.Request) -> bool:
    """Whether the caller is on this machine (a loopback address) or holds an admin's token (read by
    the workspace's auth middleware where the app has one)."""
    from switchboard.auth import PRINCIPAL

    try:
        if ipaddress.ip_address(request.remote or "").is_loopback:
            return True
    except ValueError:
        pass
    principal = request.get(PRINCIPAL)
    return principal is not None and principal.may("admin")


def bearer_is(request: web.Request, token) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (a SecretStr; None: never)."""
    sent = request.headers.get("Authorization", "")
    return token is not None and sent.startswith("Bearer ") and hmac.compare_digest(
        sent.removeprefix("Bearer ").encode(), token.get_secret_value().encode())


def add_observability(app: web.Application, metrics: Metrics, checks: dict[str, Check],
                      channels: frozenset[str] | None = None, *, token=None) -> None:
    """GET /metrics, /healthz (alive: 200) and /readyz (each of `checks`; 503 naming those not ready),
    and the HTTP-status middleware (outermost: the auth middleware's refusals are counted too), on
    `app` before it starts (middlewares freeze then). /metrics answers loopback callers, an admin's
    token or the bearer `token` (settings.metrics_token); anyone else gets 403. The probes are open."""
    app[METRICS] = metrics
    app.middlewares.insert(0, http_middleware(metrics, channels))

    async def exposition(request: web.Request) -> web.Response:
        if not (local_or_admin(request) or bearer_is(request, token)):
            return web.json_response({"error": "metrics are for loopback callers, an admin's token or "
                                               "SWITCHBOARD_METRICS_TOKEN as a bearer token"}, status=403)
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


async def serve_observability(metrics: Metrics, checks: dict[str, Check], host: str, port: int,
                              *, token=None) -> web.AppRunner | None:
    """A small server of /metrics, /healthz and /readyz for a role without an HTTP app of its own
    (`token` as `add_observability`).

    A taken port is one warning line, not the end of the role: its events keep flowing (two workers
    on one host need SWITCHBOARD_WORKER_PORT set apart, or 0 for any free port)."""
    app = web.Application()
    add_observability(app, metrics, checks, token=token)
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
