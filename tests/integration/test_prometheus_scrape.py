"""Debian's Prometheus scrapes the sink, the worker and deliver of a short run, and its HTTP API
(`/api/v1/query`) answers their series: each target up, each role's readiness checks passing, and the
counters of what the run did — a malformed outbound message dead-lettered by deliver, the worker's
faust sensor and processors, the sink's consumer lag.

Prometheus is installed by the project's setup (`make install`: apt-get install prometheus).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from switchboard.harness import Worker
from switchboard.kafka import producer
from tests.kafka_fixture import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
REPO = Path(__file__).resolve().parents[2]
ACCOUNTS = REPO / "deploy" / "accounts.yaml"
MALFORMED = (REPO / "tests" / "fixtures" / "observe" / "malformed-outbound.bin").read_bytes()
SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]


def get(url: str, timeout: float = 3.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()
    except OSError:
        return 0, b""


def wait_for(what: str, found, timeout: float, logs=()) -> object:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {path.name}\n{path.read_text()[-1500:]}" for path in logs if path.exists())
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        time.sleep(0.2)
    return value


def query(prometheus: str, promql: str) -> list[dict]:
    """The instant vector `promql` evaluates to now."""
    status, body = get(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    answer = json.loads(body) if status == 200 else {}
    return answer.get("data", {}).get("result", []) if answer.get("status") == "success" else []


def by_label(results: list[dict], label: str) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in results}


@pytest.fixture
def roles(kafka_bootstrap, tmp_path, group_id):
    """The sink, the worker and deliver on free ports of their own: {job: (port, log file)}."""
    ports = {name: free_port() for name in ("sink", "worker", "deliver")}
    env = {"SWITCHBOARD_KAFKA_BOOTSTRAP": kafka_bootstrap, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"),
           "SWITCHBOARD_ACCOUNTS_FILE": str(ACCOUNTS), "SWITCHBOARD_LOG_LEVEL": "INFO",
           "SWITCHBOARD_LOG_FORMAT": "json", "SWITCHBOARD_SINK_PORT": str(ports["sink"]),
           "SWITCHBOARD_WORKER_PORT": str(ports["worker"]), "SWITCHBOARD_DELIVER_PORT": str(ports["deliver"])}
    worker = Worker(kafka_bootstrap, tmp_path / "data", f"scrape-{group_id[-8:]}", ACCOUNTS)
    worker.env |= env
    logs = {name: tmp_path / f"{name}.log" for name in ports}
    children = []
    try:
        for name, argv in (("sink", ["sink", "--group", f"{group_id}-sink"]),
                           ("deliver", ["deliver", "--group", f"{group_id}-deliver"])):
            children.append(subprocess.Popen([*SWITCHBOARD, *argv], cwd=REPO, env=worker.env,
                                             stdout=subprocess.DEVNULL, stderr=logs[name].open("w")))
        worker.start(timeout=60)
        logs["worker"].write_text("\n".join(worker.log))
        yield {name: (port, logs[name]) for name, port in ports.items()}
    finally:
        worker.stop()
        for child in children:
            child.terminate()
        for child in children:
            child.wait(20)


@pytest.fixture
def prometheus(tmp_path, roles):
    """Debian's prometheus scraping every role each second; its base URL."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: run `make install` (apt-get install -y prometheus)"
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "scrape_configs": [{"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                                 for name, (port, _) in roles.items()]}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen([binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("prometheus to be ready", lambda: get(f"{url}/-/ready")[0] == 200, 15, [tmp_path / "prometheus.log"])
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_prometheus_scrapes_every_role_and_answers_their_series(kafka_bootstrap, roles, prometheus, group_id):
    logs = [log for _, log in roles.values()]
    for name, (port, _) in roles.items():
        status, body = wait_for(f"{name} /readyz", lambda port=port: (answer := get(f"http://127.0.0.1:{port}/readyz"))[0]
                                == 200 and answer, 30, logs)
        assert json.loads(body)["not_ready"] == [] and json.loads(body)["role"] == name
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200

    out = producer({"bootstrap.servers": kafka_bootstrap})
    out.produce("outbound-approved", key=b"scrape-test", value=MALFORMED)
    assert out.flush(10) == 0

    up = wait_for("every target scraped", lambda: (found := by_label(query(prometheus, "up"), "job"))
                  and set(found) == set(roles) and found, 10, logs)
    assert up == {name: 1.0 for name in roles}, get(f"{prometheus}/api/v1/targets")[1]
    ready = by_label(query(prometheus, 'min by (job) (switchboard_ready)'), "job")
    assert ready == {name: 1.0 for name in roles}
    dead = wait_for("deliver's dead letter in Prometheus", lambda: by_label(query(
        prometheus, 'switchboard_dead_letters_total{job="deliver"}'), "topic"), 15, logs)
    assert dead["outbound-approved-dlq"] >= 1
    assert by_label(query(prometheus, 'switchboard_events_in_total{job="deliver"}'), "topic")["outbound-approved"] >= 1
    processors = by_label(query(prometheus, 'switchboard_processor_events_total{job="worker"}'), "processor")
    assert {"thread_conversations", "route_conversations"} <= set(processors)
    assert query(prometheus, 'faust_messages_received_total{job="worker"}')
    lags = query(prometheus, 'switchboard_consumer_lag{job="sink"}')
    assert lags and {r["metric"]["group"] for r in lags} == {f"{group_id}-sink"}
