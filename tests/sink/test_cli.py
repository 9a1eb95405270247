"""`switchboard sink` and `switchboard sql` as processes: the sink owns its engine, `sql` asks it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from switchboard.auth import Principal, Tokens, secret
from switchboard.settings import load_settings
from tests.kafka_fixture import free_port

from .scenario import encoded, load
from .test_consumer import publish

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]


def env_for(tmp_path, bootstrap: str, port: int) -> dict[str, str]:
    return {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap,
            "SWITCHBOARD_SINK_PORT": str(port), "SWITCHBOARD_LOG_LEVEL": "WARNING"}


def sql(env: dict, query: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SWITCHBOARD, "sql", query, *options], env=env, capture_output=True, text=True, timeout=30)


def wait_for_ping(port: int, sink: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert sink.poll() is None, sink.stderr.read()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the sink never answered /ping")


def test_sql_answers_from_the_running_sink(kafka_bootstrap, tmp_path, tenant, group_id):
    port = free_port()
    env = env_for(tmp_path, kafka_bootstrap, port)
    publish(kafka_bootstrap, encoded(load("history_scenario.json", tenant)["events"]))
    sink = subprocess.Popen([*SWITCHBOARD, "sink", "--group", group_id], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_ping(port, sink)
        query = f"SELECT count() AS messages FROM message_facts FINAL WHERE tenant_id = '{tenant}'"
        deadline = time.monotonic() + 30
        while (out := sql(env, query, "--format", "json")).stdout.strip() != '{"messages": 6}':
            assert out.returncode == 0, out.stderr
            assert time.monotonic() < deadline, out.stdout
            time.sleep(0.3)
        table = sql(env, f"SELECT message_id, channel FROM message_facts FINAL WHERE tenant_id = '{tenant}' "
                         "ORDER BY message_id LIMIT 2")
        assert table.stdout.splitlines() == ["message_id  channel", "----------  ---------",
                                             "in-line-c   line", "in-ms-1     messenger"]
        # The sink signs with the secret it keeps in its data directory (switchboard.auth.secret).
        tokens = Tokens(secret(load_settings(data_dir=tmp_path)), 60)
        token, _ = tokens.issue(Principal("sup", tenant, "supervisor", "s-cli", "Sup"))
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/customers/cust-B/history",
                                         headers={"Authorization": f"Bearer {token}"})
        # The merge is on another topic than the messages: wait for it too (a positive condition).
        while (merged := _history_owner(request)) != "cust-A" and time.monotonic() < deadline + 30:
            time.sleep(0.3)
        assert merged == "cust-A"
        bad = sql(env, "SELECT nope FROM message_facts")
        assert bad.returncode == 1 and "Code: 47" in bad.stderr
    finally:
        sink.send_signal(signal.SIGTERM)
        assert sink.wait(30) == 0, sink.stderr.read()


def _history_owner(request) -> str:
    """The customer a history request answers for (B's history is A's once B is merged into A)."""
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())["customer_id"]


def test_sql_says_what_to_start_when_nothing_answers(tmp_path):
    out = sql(env_for(tmp_path, "127.0.0.1:1", free_port()), "SELECT 1")
    assert out.returncode == 2
    assert "no ClickHouse answers" in out.stderr and "switchboard sink" in out.stderr
