"""Debian's Prometheus scrapes every role of a short run — edge, worker, sink and deliver — and its
HTTP API (`/api/v1/query`) answers their series: each target up and ready, the webhook posted to
the edge counted under its channel (events in, HTTP 200), the worker's processor and faust series,
the sink's events and consumer lag, and deliver's dead letter for a malformed outbound message.
Every expression of the Grafana operations dashboard (deploy/grafana/operations.py) evaluates there,
over series the roles declare.

Prometheus is installed by the project's setup (`make install`: apt-get install prometheus).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from deploy.grafana.operations import expressions
from switchboard.harness import READY, start_group_at
from switchboard.kafka import producer
from tests.connectors.helpers import ACCOUNT_IDS, SECRETS, SIGNING, accounts_file, new_tenant, webhook
from tests.kafka_fixture import free_port
from tests.system_fixture import Role, _in_log

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
REPO = Path(__file__).resolve().parents[2]
MALFORMED = (REPO / "tests" / "fixtures" / "observe" / "malformed-outbound.bin").read_bytes()


def get(url: str, timeout: float = 3.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()
    except OSError:
        return 0, b""


def wait_for(what: str, found, timeout: float, roles=()) -> object:
    """`found()`'s first true value, polled until `timeout` (then the roles' log tails)."""
    deadline = time.monotonic() + timeout
    while not (value := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(f"--- {r.name}\n{r.log(30)}" for r in roles))
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
def run(kafka_bootstrap, tmp_path):
    """The four roles on free ports, started together (each group from now on): {job: (role, port)}."""
    name = uuid.uuid4().hex[:8]
    ports = {role: free_port() for role in ("worker", "sink", "deliver", "edge")}
    env = os.environ | {
        "SWITCHBOARD_KAFKA_BOOTSTRAP": kafka_bootstrap, "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"),
        "SWITCHBOARD_ACCOUNTS_FILE": str(accounts_file(tmp_path, new_tenant())), "SWITCHBOARD_LOG_LEVEL": "INFO",
        "SWITCHBOARD_LOG_FORMAT": "json", **{f"SWITCHBOARD_{role.upper()}_PORT": str(port) for role, port in ports.items()}}
    groups = {"worker": f"scrape-worker-{name}", "sink": f"scrape-sink-{name}", "deliver": f"scrape-deliver-{name}"}
    since = int(time.time() * 1000) - 5_000
    for group in groups.values():   # a new group reads from now, not the session's whole history
        start_group_at({"bootstrap.servers": kafka_bootstrap}, group, since)
    argv = {"edge": ["edge", "--transactional-id", f"scrape-edge-{name}", "--no-workspace"],
            "worker": ["worker", "--name", groups["worker"], "--app-id", groups["worker"], "--expiry-interval", "1",
                       "--processors", "streams.conversations.agent"],
            "sink": ["sink", "--group", groups["sink"]],
            "deliver": ["deliver", "--group", groups["deliver"]]}
    roles = {job: Role(job, argv[job], env, tmp_path / f"{job}.log") for job in ports}
    try:
        for role in roles.values():
            role.start()
        yield {job: (roles[job], port) for job, port in ports.items()}
    finally:
        for role in roles.values():
            role.proc.terminate()
        late = [role.name for role in roles.values() if _stopped(role, 15) is None]
        assert not late, f"{late} did not stop within 15 s of SIGTERM"


def _stopped(role: Role, timeout: float) -> int | None:
    """Its exit code, or None (then killed) if it is still running after `timeout` s."""
    try:
        return role.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        role.proc.kill()
        role.proc.wait(10)
        return None


@pytest.fixture
def prometheus(tmp_path, run):
    """Debian's prometheus scraping every role each second; its base URL."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: run `make install` (apt-get install -y prometheus)"
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
              "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                                 for job, (_, port) in run.items()]}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    server = subprocess.Popen([binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("prometheus to be ready", lambda: get(f"{url}/-/ready")[0] == 200, 15)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_prometheus_scrapes_every_role_and_answers_their_series(kafka_bootstrap, run, prometheus):
    roles = {job: role for job, (role, _) in run.items()}
    for job, (role, port) in run.items():
        if job == "worker":
            role.wait_until(_in_log(role, READY), 60)
        status, body = wait_for(f"{job} /readyz", lambda port=port: (answer := get(f"http://127.0.0.1:{port}/readyz"))[0]
                                == 200 and answer, 60, roles.values())
        ready = json.loads(body)
        assert ready["role"] == job and ready["not_ready"] == [] and all(ready["checks"].values()), ready
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200

    edge_port = run["edge"][1]
    body = webhook("open", "text")
    header, render = SIGNING["open"]
    request = urllib.request.Request(f"http://127.0.0.1:{edge_port}/webhooks/open/{ACCOUNT_IDS['open']}", body,
                                     {header: render(SECRETS["open"].encode(), body), "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as answer:
        assert answer.status == 200
    out = producer({"bootstrap.servers": kafka_bootstrap})
    out.produce("outbound-approved", key=b"scrape-test", value=MALFORMED)
    assert out.flush(10) == 0

    up = wait_for("every target up", lambda: (found := by_label(query(prometheus, "up == 1"), "job"))
                  and set(found) == set(roles) and found, 15, roles.values())
    assert up == {job: 1.0 for job in roles}
    # switchboard_ready is set by a /readyz call (the test's, above): the scrape after it has it
    ready = wait_for("every role's readiness scraped", lambda: (found := by_label(query(
        prometheus, "min by (job) (switchboard_ready)"), "job")) and set(found) == set(roles) and found, 15, roles.values())
    assert ready == {job: 1.0 for job in roles}

    edge_in = wait_for("the webhook's events at the edge", lambda: by_label(query(
        prometheus, 'sum by (channel) (switchboard_events_in_total{job="edge"})'), "channel"), 15, roles.values())
    assert edge_in.get("open", 0) >= 1
    ok = by_label(query(prometheus, 'switchboard_http_responses_total{job="edge",status="200"}'), "channel")
    assert ok.get("open", 0) >= 1
    thread = wait_for("the worker's processor counting the event", lambda: by_label(query(
        prometheus, 'switchboard_processor_events_total{job="worker"} > 0'), "processor"), 20, roles.values())
    assert thread and query(prometheus, 'faust_messages_received_total{job="worker"}')
    sunk = wait_for("the sink's events in", lambda: by_label(query(
        prometheus, 'sum by (topic) (switchboard_events_in_total{job="sink"})'), "topic"), 20, roles.values())
    assert sunk.get("inbound-messages", 0) >= 1
    assert query(prometheus, 'switchboard_consumer_lag{job="sink"}')
    dead = wait_for("deliver's dead letter", lambda: by_label(query(
        prometheus, 'switchboard_dead_letters_total{job="deliver"}'), "topic"), 20, roles.values())
    assert dead["outbound-approved-dlq"] >= 1

    declared = {"up"}   # Prometheus's own; the rest as each role's /metrics declares them (samples or not)
    for job, (_, port) in run.items():
        declared |= set(re.findall(r"^# TYPE (\S+) ", get(f"http://127.0.0.1:{port}/metrics")[1].decode(), re.M))
    used = {re.sub(r"_bucket$", "", name) for expr in expressions()   # a histogram is declared by its name
            for name in re.findall(r"\b(switchboard_\w+|up)\{", expr)}
    assert len(used) >= 12 and used <= declared, used - declared
    for expr in expressions():   # as Grafana sends them: every role, a rate window of a few scrapes
        promql = expr.replace("$__rate_interval", "5s").replace("$job", ".*")
        status, body = get(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        assert status == 200 and json.loads(body)["status"] == "success", (expr, body[:300])
