"""The command line: help everywhere, user mistakes as one-line errors without stack traces."""
import json
import subprocess
import sys

import pytest

from switchboard.cli import main


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "switchboard.cli", *args], capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.mark.parametrize("args", [[], ["kafka"], ["kafka", "start"], ["topics"], ["topics", "describe"], ["run"]])
def test_help_everywhere(args):
    done = run_cli(*args, "--help")
    assert done.returncode == 0 and "usage: switchboard" in done.stdout


def test_unknown_topic_is_a_one_line_error(capsys):
    assert main(["topics", "describe", "no-such-topic"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("switchboard: error: topic 'no-such-topic' is not declared") and err.count("\n") == 1


def test_bad_settings_are_a_one_line_error_without_traceback():
    import os

    done = run_cli("kafka", "status", env=os.environ | {"SWITCHBOARD_THREADING_WINDOW_HOURS": "100"})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "72 or less" in done.stderr


def test_topics_describe_shows_the_declaration(capsys):
    assert main(["topics", "describe", "inbound-messages"]) == 0
    declared = json.loads(capsys.readouterr().out)["declared"]
    assert declared["partitions"] == 6 and declared["value"] == "inbound-message"


def test_settings_are_printed_masked(capsys, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_URL", "http://ch:8123")
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_PASSWORD", "topsecret")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "topsecret" not in out and json.loads(out)["clickhouse_password"] == "**********"


def test_settings_mask_passwords_inside_urls(capsys, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_URL", "https://sb:topsecret@ch:8443/?password=topsecret")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "topsecret" not in out
    assert json.loads(out)["clickhouse_url"] == "https://sb:****@ch:8443/?password=****"


@pytest.mark.clickhouse
def test_sql_errors_never_repeat_credentials(capsys, monkeypatch, clickhouse_url):
    from tests.kafka_fixture import free_port

    port = clickhouse_url.rsplit(":", 1)[1]
    for url, said in ((f"http://default:topsecret@127.0.0.1:{port}/?password=topsecret", "AUTHENTICATION_FAILED"),
                      (f"http://default:topsecret@127.0.0.1:{free_port()}", "no ClickHouse answers")):
        monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_URL", url)
        assert main(["sql", "SELECT 1"]) in (1, 2)
        err = capsys.readouterr().err
        assert "topsecret" not in err and said in err, err
