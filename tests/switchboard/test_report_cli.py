"""`switchboard report`: a view of the running sink's facts as a table, CSV or JSON, read as the
readonly ClickHouse user with no token typed; mistakes are one line naming the fix."""
from __future__ import annotations

import csv
import io
import json
import uuid
from urllib.parse import urlparse

import pytest

from switchboard.cli import main
from tests.clickhouse_fixture import READER
from tests.kafka_fixture import free_port
from tests.sink.views_scenario import load_floor

pytestmark = pytest.mark.clickhouse
NOW = "2026-12-01T07:45:00Z"


@pytest.fixture(scope="module")
def floor(clickhouse_store) -> str:
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    load_floor(clickhouse_store, tenant)
    return tenant


@pytest.fixture
def sink_env(monkeypatch, clickhouse_url, tmp_path):
    """The settings of a machine whose sink serves the session's engine (readonly password set)."""
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SWITCHBOARD_SINK_PORT", str(urlparse(clickhouse_url).port))
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD", READER[1])
    monkeypatch.delenv("SWITCHBOARD_CLICKHOUSE_URL", raising=False)


def report(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_view_is_a_table_in_the_terminal(sink_env, floor, capsys):
    code, out, err = report(capsys, "my_queues_activity", "--tenant", floor, "--now", NOW)
    assert code == 0, err
    header, rule, general = out.splitlines()
    assert header.split() == ["queue_id", "waiting", "longest_wait_s", "interacting", "agents_on_queue",
                                            "agents_idle", "agents_not_responding", "offered", "answered", "abandoned",
                                            "sl_pct"]
    assert set(rule) == {"-", " "} and general.split() == ["general", "2", "900", "1", "2", "1", "1", "4", "2", "0", "50.0"]


def test_csv_and_json_carry_the_same_rows(sink_env, floor, capsys):
    week = ["--from", "2026-11-30", "--to", "2026-12-05", "--tenant", floor]
    code, out, _ = report(capsys, "interactions", *week, "--direction", "outbound", "--csv")
    [header, q4] = list(csv.reader(io.StringIO(out)))
    assert code == 0 and q4[header.index("conversation_id")] == "q4" and q4[header.index("channel")] == "messenger"
    code, out, _ = report(capsys, "interactions", *week, "--queue", "general", "--queue", "billing", "--json")
    answer = json.loads(out)
    ids = [row[answer["columns"].index("conversation_id")] for row in answer["rows"]]
    assert code == 0 and answer["view"] == "interactions" and ids == ["q2", "q3", "q1", "q5"]


def test_another_tenants_rows_are_not_shown(sink_env, floor, capsys):
    code, out, _ = report(capsys, "interactions", "--from", "2026-11-30", "--tenant", f"{floor}-nobody", "--json")
    assert code == 0 and json.loads(out)["rows"] == []


def test_mistakes_are_one_line_naming_the_fix(sink_env, floor, capsys, monkeypatch):
    for argv, fix in [(["queues_performance", "--granularity", "7m"], "give one of 15m, 30m, 60m, day"),
                      (["everything"], "no view 'everything': one of"),
                      (["interaction"], "give the conversation")]:
        code, out, err = report(capsys, *argv)
        assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1 and fix in err, err
    monkeypatch.setenv("SWITCHBOARD_SINK_PORT", str(free_port()))
    code, _, err = report(capsys, "queues_performance")
    assert code == 2 and "start `switchboard sink`" in err and "Traceback" not in err
