"""Metrics and health of every role (switchboard/observe.py) and the one log format (switchboard/logs.py):
/metrics only for loopback callers, an admin or the metrics bearer token; /healthz always; /readyz
naming what is not ready; the statuses counted per channel; the lag as the consuming thread last
computed it; a taken port one warning line; JSON log lines a shipper can read."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from switchboard import observe
from switchboard.logs import JsonFormatter, RoleFilter, TextFormatter, logging_config
from switchboard.observe import ConsumerLag, Metrics, add_observability, serve_observability
from switchboard.settings import Settings

aio = pytest.mark.asyncio(loop_scope="session")
TOKEN = SecretStr("prometheus-scrape-token-7f3a")


def app_for(metrics: Metrics, checks: dict, *, remote: str | None = None) -> web.Application:
    """The observability routes on an app whose callers all seem to come from `remote`."""
    @web.middleware
    async def from_elsewhere(request, handler):
        return await handler(request.clone(remote=remote) if remote else request)

    async def refused(_request):
        return web.Response(status=401)

    app = web.Application(middlewares=[from_elsewhere])
    app.router.add_post("/webhooks/{channel}/{account_id}", refused)
    add_observability(app, metrics, checks, channels=frozenset({"messenger"}), token=TOKEN)
    return app


async def client_of(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@aio
async def test_metrics_answer_loopback_callers_and_the_bearer_token_and_no_one_else():
    local = await client_of(app_for(Metrics("edge"), {}))
    outside = await client_of(app_for(Metrics("edge"), {}, remote="10.20.30.40"))
    try:
        assert (await local.get("/metrics")).status == 200
        refused = await outside.get("/metrics")
        assert refused.status == 403 and "SWITCHBOARD_METRICS_TOKEN" in (await refused.json())["error"]
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer prometheus-scrape-token-0000"})
        assert wrong.status == 403
        scraped = await outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN.get_secret_value()}"})
        assert scraped.status == 200 and 'switchboard_info{role="edge"} 1.0' in await scraped.text()
        assert (await outside.get("/healthz")).status == 200     # the probes stay open
    finally:
        await local.close()
        await outside.close()


@aio
async def test_readyz_names_each_check_that_failed_or_hung(monkeypatch):
    monkeypatch.setattr(observe, "CHECK_TIMEOUT_S", 0.05)

    async def hangs() -> bool:
        await asyncio.Event().wait()

    metrics = Metrics("sink")
    client = await client_of(app_for(metrics, {"broker": lambda: True, "store": hangs, "assigned": lambda: False}))
    try:
        answer = await client.get("/readyz")
        body = await answer.json()
        assert answer.status == 503 and body["not_ready"] == ["store", "assigned"] and body["checks"]["broker"] is True
        text = metrics.exposition().decode()
        assert 'switchboard_ready{check="broker"} 1.0' in text and 'switchboard_ready{check="store"} 0.0' in text
    finally:
        await client.close()


@aio
async def test_responses_are_counted_per_channel_route_and_status_and_made_up_channels_as_unknown():
    metrics = Metrics("edge")
    client = await client_of(app_for(metrics, {}))
    try:
        await client.post("/webhooks/messenger/page-1", data=b"{}")
        await client.post("/webhooks/made-up-1/x", data=b"{}")
        await client.post("/webhooks/made-up-2/x", data=b"{}")
        text = metrics.exposition().decode()
        assert ('switchboard_http_responses_total{channel="messenger",route="/webhooks/{channel}/{account_id}",'
                'status="401"} 1.0') in text
        assert 'channel="unknown",route="/webhooks/{channel}/{account_id}",status="401"} 2.0' in text
        assert "made-up" not in text
    finally:
        await client.close()


class Partition:
    def __init__(self, topic, partition, offset):
        self.topic, self.partition, self.offset = topic, partition, offset


class Consumer:
    """Positions and cached high watermarks of two partitions, one never consumed yet (offset -1001)."""

    def assignment(self):
        return ["a", "b"]

    def position(self, _assigned):
        return [Partition("inbound-messages", 0, 40), Partition("inbound-messages", 1, -1001)]

    def get_watermark_offsets(self, tp, cached):
        assert cached, "the lag must not ask the broker"
        return 0, 100


def test_the_lag_is_what_the_consuming_thread_last_computed():
    lag = ConsumerLag("switchboard-sink")
    metrics = Metrics("sink").watch(lag)
    assert "switchboard_consumer_lag{" not in metrics.exposition().decode()
    lag.refresh(Consumer())
    assert ('switchboard_consumer_lag{group="switchboard-sink",partition="0",topic="inbound-messages"} 60.0'
            in metrics.exposition().decode())


@aio
async def test_a_taken_port_is_one_warning_naming_the_setting_and_no_server(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with caplog.at_level(logging.WARNING, "switchboard.observe"):
            assert await serve_observability(Metrics("worker"), {}, "127.0.0.1", taken.getsockname()[1]) is None
    [line] = [r.getMessage() for r in caplog.records]
    assert "SWITCHBOARD_WORKER_PORT" in line and "\n" not in line


def test_json_log_lines_carry_time_level_logger_role_message_and_the_exception():
    config = logging_config(Settings(log_format="json"), "deliver")
    assert config["formatters"]["switchboard"]["()"] is JsonFormatter
    assert logging_config(Settings(), "deliver")["formatters"]["switchboard"]["()"] is TextFormatter
    try:
        raise ValueError("platform said no")
    except ValueError:
        record = logging.LogRecord("switchboard.deliver", logging.ERROR, __file__, 1, "failed %s", ("m-1",),
                                   exc_info=sys.exc_info())
    RoleFilter("deliver").filter(record)
    line = JsonFormatter().format(record)
    parsed = json.loads(line)
    assert "\n" not in line and parsed["message"] == "failed m-1" and parsed["role"] == "deliver"
    assert (parsed["level"], parsed["logger"]) == ("ERROR", "switchboard.deliver") and parsed["time"].endswith("Z")
    assert "ValueError: platform said no" in parsed["exception"]
