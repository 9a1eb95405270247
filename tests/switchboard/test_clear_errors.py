"""What a user meets at once (issue 16, part 6): one line naming the fix, exit 2 (config) or 1
(environment), no traceback and no librdkafka lines; unknown SWITCHBOARD_* variables named;
`--version`; progress while Maven fetches the broker's jars and builds the registry."""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy import schema_registry
from deploy.kafka import broker
from deploy.kafka.broker import LocalKafka
from switchboard import settings as settings_module
from switchboard.cli import main
from switchboard.errors import Unavailable, port_taken_is_unavailable
from switchboard.kafka import BrokerUnreachable, require_broker
from switchboard.settings import EXEMPT_PREFIX, PROJECT_ROOT, READ_ELSEWHERE, known_variables, load_settings

CONFIG = Path(__file__).parents[1] / "fixtures" / "config"
BAD_YAML = CONFIG / "accounts_bad_indent.yaml"   # the WhatsApp entry's access_token indented one space short
DOWN_FIX = "start it with `switchboard kafka start` or set SWITCHBOARD_KAFKA_BOOTSTRAP"


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`switchboard ARGS` in a process of its own, with no SWITCHBOARD_* variable but the tests' and `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") or k.startswith(EXEMPT_PREFIX)}
    return subprocess.run([sys.executable, "-m", "switchboard.cli", *args], capture_output=True, text=True,
                          env=clean | env, timeout=60, cwd=PROJECT_ROOT)


def one_error_line(err: str) -> str:
    """The stderr of a command that failed as it should: a single `switchboard: error:` line."""
    assert err.count("\n") == 1 and err.startswith("switchboard: error: "), err
    assert "Traceback" not in err and "rdkafka" not in err and "%3|" not in err, err
    return err


@pytest.fixture
def closed_port():
    """A real port that refuses connections: bound (so nothing else takes it) but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def taken_port():
    """A real port something listens on."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield listening.getsockname()[1]


# -- a malformed accounts file ----------------------------------------------------------------

def test_a_malformed_accounts_file_is_one_line_naming_file_line_and_setting_without_traceback():
    done = run_cli("settings", SWITCHBOARD_ACCOUNTS_FILE=str(BAD_YAML))
    assert done.returncode == 2 and done.stdout == ""
    err = one_error_line(done.stderr)
    assert f"{BAD_YAML} is not valid YAML at line 19, column 8" in err and "SWITCHBOARD_ACCOUNTS_FILE" in err


def test_run_refuses_the_malformed_accounts_file_before_starting_anything(monkeypatch, capfd):
    monkeypatch.setenv("SWITCHBOARD_ACCOUNTS_FILE", str(BAD_YAML))
    monkeypatch.setattr("deploy.run.run_all", lambda settings: pytest.fail("run_all started"))
    assert main(["run"]) == 2
    assert "line 19, column 8" in one_error_line(capfd.readouterr().err)


def test_a_role_reading_the_malformed_accounts_file_refuses_to_start_in_one_line(capfd):
    # `simulate` reads the accounts before it listens or touches Kafka (edge, deliver, worker: the same load_accounts)
    assert main(["simulate", "--accounts", str(BAD_YAML), "--no-web", "--no-customers", "--duration", "1"]) == 2
    assert "line 19, column 8" in one_error_line(capfd.readouterr().err)


# -- the broker down --------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["topics", "list", "--broker"], ["topics", "describe", "inbound-messages", "--broker"],
                                     ["topics", "create"], ["dlq", "list"], ["dlq", "show", "inbound-messages-dlq"],
                                     ["dlq", "replay", "outbound-approved-dlq", "--dry-run"]])
def test_a_command_needing_the_broker_says_in_one_line_that_it_is_down(command, closed_port, monkeypatch, capfd):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", f"127.0.0.1:{closed_port}")
    started = time.monotonic()
    assert main(command) == 1   # environment, not usage: and never 0 (`dlq show` used to exit 0)
    assert time.monotonic() - started < 5
    err = one_error_line(capfd.readouterr().err)
    assert f"the broker at 127.0.0.1:{closed_port} is not reachable" in err and DOWN_FIX in err


@pytest.mark.parametrize("role", ["edge", "deliver"])
def test_a_role_started_with_the_broker_down_says_so_in_one_line(role, closed_port, tmp_path):
    done = run_cli(role, SWITCHBOARD_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port}", SWITCHBOARD_DATA_DIR=str(tmp_path))
    assert done.returncode == 1
    assert f"the broker at 127.0.0.1:{closed_port} is not reachable" in one_error_line(done.stderr)
    assert not (tmp_path / "delivery-ledger").exists()   # refused before it opened anything


@pytest.mark.parametrize("role", ["edge", "deliver"])
def test_a_role_refuses_the_malformed_accounts_file_before_the_broker(role, closed_port):
    done = run_cli(role, SWITCHBOARD_ACCOUNTS_FILE=str(BAD_YAML), SWITCHBOARD_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port}")
    assert done.returncode == 2 and "line 19, column 8" in one_error_line(done.stderr)


def test_a_broker_that_accepts_connections_but_never_answers_is_given_up_on_in_time(taken_port, capfd):
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable, match=re.escape(DOWN_FIX)):
        require_broker({"bootstrap.servers": f"127.0.0.1:{taken_port}"}, timeout=1.0)
    assert time.monotonic() - started < 3
    assert capfd.readouterr().err == ""   # librdkafka said nothing


def test_a_wrong_dead_letter_topic_is_the_users_mistake_even_with_the_broker_down(closed_port, monkeypatch, capfd):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", f"127.0.0.1:{closed_port}")
    assert main(["dlq", "show", "agent-actions"]) == 2
    assert "not a dead-letter topic" in one_error_line(capfd.readouterr().err)


# -- a port in use ----------------------------------------------------------------------------

def test_simulators_on_a_taken_port_say_so_in_one_line(taken_port, capfd):
    assert main(["simulate", "--port", str(taken_port), "--no-web", "--no-customers", "--duration", "1"]) == 1
    err = one_error_line(capfd.readouterr().err)
    assert f"127.0.0.1:{taken_port} is already in use" in err and "`switchboard simulate --port N`" in err


def test_the_sink_on_a_taken_port_says_so_in_its_last_line_without_traceback(taken_port, closed_port, tmp_path):
    done = run_cli("sink", "--no-consume", SWITCHBOARD_SINK_PORT=str(taken_port), SWITCHBOARD_DATA_DIR=str(tmp_path),
                   SWITCHBOARD_KAFKA_BOOTSTRAP=f"127.0.0.1:{closed_port}")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    last = done.stderr.splitlines()[-1]   # a service logs its start before it listens
    assert last == (f"switchboard: error: 127.0.0.1:{taken_port} is already in use (another switchboard process?): "
                    "stop what listens there or choose another port: SWITCHBOARD_SINK_PORT")


def test_a_plain_bind_on_a_taken_port_becomes_unavailable_naming_the_fix(taken_port):
    with pytest.raises(Unavailable, match="a port it listens on is already in use.*set SWITCHBOARD_EDGE_PORT"):
        with port_taken_is_unavailable("set SWITCHBOARD_EDGE_PORT"), socket.socket() as server:
            server.bind(("127.0.0.1", taken_port))
    with pytest.raises(PermissionError):   # any other OSError stays what it is
        with port_taken_is_unavailable("unused"):
            raise PermissionError(13, "Permission denied")


def test_kafka_start_on_a_taken_port_names_the_setting_before_fetching_anything(taken_port, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_PORT", str(taken_port))
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SWITCHBOARD_CACHE_DIR", str(tmp_path / "empty-cache"))   # a fetch would print its progress
    assert main(["kafka", "start"]) == 1
    err = one_error_line(capfd.readouterr().err)
    assert f"127.0.0.1:{taken_port}: Address already in use" in err and "set SWITCHBOARD_KAFKA_PORT" in err


# -- unknown SWITCHBOARD_* variables ----------------------------------------------------------

def test_a_misspelt_variable_is_named_once_with_the_closest_setting():
    done = run_cli("settings", SWITCHBOARD_KAFKA_BOOTSTRAPS="broker-1:9092", SWITCHBOARD_TEST_ANYTHING="1",
                   SWITCHBOARD_SINK_FAULT_FILE="/nonexistent")   # tests' own and a fault hook: known
    assert done.returncode == 0 and '"kafka_bootstrap": "127.0.0.1:9092"' in done.stdout   # ignored, as said
    assert done.stderr == ("switchboard: warning: SWITCHBOARD_KAFKA_BOOTSTRAPS is not a Switchboard setting and is "
                           "ignored (did you mean SWITCHBOARD_KAFKA_BOOTSTRAP?)\n")


def test_an_unknown_variable_is_warned_about_once_for_a_process_and_its_children(monkeypatch, capfd):
    monkeypatch.delenv(settings_module.TOLD, raising=False)
    monkeypatch.setenv("SWITCHBOARD_ACCOUNTS", str(BAD_YAML))
    load_settings(), load_settings()
    subprocess.run([sys.executable, "-c", "from switchboard.settings import load_settings; load_settings()"],
                   check=True, cwd=PROJECT_ROOT)   # a role `switchboard run` starts: it inherits the environment
    assert capfd.readouterr().err == ("switchboard: warning: SWITCHBOARD_ACCOUNTS is not a Switchboard setting and "
                                      "is ignored (did you mean SWITCHBOARD_ACCOUNTS_FILE?)\n")


# Where the tree names its variables: code and deployment files (docs may speak of SWITCHBOARD_KAFKA_* families).
SCANNED = {".py", ".yaml", ".yml", ".sh", ".toml", ".json", ".js", ".html", ".tmpl", ".properties"}
NOT_SCANNED = {".venv", ".cache", ".data", ".git", "node_modules", "__pycache__"}
NAME = re.compile(r"\bSWITCHBOARD_[A-Z0-9_]*[A-Z0-9]\b")   # `SWITCHBOARD_KAFKA_{name}`: a prefix, left out


def test_every_switchboard_variable_the_tree_reads_is_a_setting_or_listed_beside_them():
    named: dict[str, set[str]] = {}
    for directory, subdirectories, files in os.walk(PROJECT_ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_SCANNED and not d.startswith(".")]
        for file in map(Path(directory).joinpath, files):
            if (file.suffix in SCANNED or file.name in ("Makefile", "Dockerfile")) and file != Path(__file__):
                for name in NAME.findall(file.read_text(errors="replace")):
                    named.setdefault(name, set()).add(str(file.relative_to(PROJECT_ROOT)))
    assert {"SWITCHBOARD_KAFKA_BOOTSTRAP", "SWITCHBOARD_SINK_FAULT_FILE", "SWITCHBOARD_SOAK_RATE"} <= named.keys()
    unknown = {name: sorted(where) for name, where in named.items()
               if name not in known_variables() and not name.startswith(EXEMPT_PREFIX)}
    assert unknown == {}, "add each to switchboard/settings.py (a field, or READ_ELSEWHERE)"
    assert set(READ_ELSEWHERE) <= named.keys(), "READ_ELSEWHERE lists a variable nothing reads any more"


# -- --version ----------------------------------------------------------------------------------

def test_version_prints_the_installed_distributions_version():
    done = run_cli("--version")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == f"switchboard {importlib.metadata.version('switchboard-cx')}\n"


# -- progress while Maven works -----------------------------------------------------------------

def fake_tools(bin_dir: Path, mvn_script: str) -> str:
    """A PATH holding the real java and a fake `mvn` (a shell script): no network, no minutes of Maven."""
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(shutil.which("java"))
    (bin_dir / "mvn").write_text("#!/bin/sh\n" + mvn_script)
    (bin_dir / "mvn").chmod(0o755)
    return str(bin_dir)


def test_the_first_fetch_of_the_broker_jars_says_what_it_does_and_how_it_goes(tmp_path, monkeypatch, capfd):
    # Maven 3.8 in batch mode prints one "[INFO] Downloaded from central: …" line per file it downloads.
    script = ('for a; do case $a in -DoutputDirectory=*) dir=${a#*=};; esac; done\n'
              'echo "[INFO] Scanning for projects..."\n'
              'for i in 1 2 3; do echo "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/'
              'org/apache/kafka/kafka-clients/4.3.1/kafka-clients-4.3.1.jar (15 MB at 30 MB/s)"; done\n'
              f'{shutil.which("mkdir")} -p "$dir" && {shutil.which("touch")} "$dir/kafka_2.13-4.3.1.jar"\n')
    monkeypatch.setenv("PATH", fake_tools(tmp_path / "bin", script))
    monkeypatch.setattr(broker, "PROGRESS_EVERY_S", 0.0)
    LocalKafka(tmp_path / "cache", tmp_path / "data").fetch()
    lines = capfd.readouterr().err.splitlines()
    assert lines[0] == f"fetching Kafka {broker.kafka_version()} jars from Maven Central (first start only, ~25 s)…"
    assert [line.split(" (")[0] for line in lines[1:5]] == ["…resolving", "…1 files downloaded",
                                                           "…2 files downloaded", "…3 files downloaded"]
    assert re.fullmatch(r"…done in \d+ s \(1 jars in .*/libs\)", lines[-1]) and len(lines) == 6


def test_the_registry_build_says_what_it_does_and_which_step_it_is_in(tmp_path, monkeypatch, capfd):
    script = ('echo "[INFO] --- quarkus-maven-plugin:2.16.4.Final:build (default) @ switchboard-schema-registry ---"\n'
              f'{shutil.which("sleep")} 0.6\n'
              f'{shutil.which("mkdir")} -p target && {shutil.which("touch")} target/registry-1.0-runner.jar\n')
    monkeypatch.setenv("PATH", fake_tools(tmp_path / "bin", script))
    monkeypatch.setattr(schema_registry, "PROGRESS_EVERY_S", 0.2)
    runner = schema_registry.LocalSchemaRegistry(tmp_path / "cache", 0).build()
    lines = capfd.readouterr().err.splitlines()
    assert lines[0].startswith("building the schema registry with Maven (first build ~3 min")
    assert re.fullmatch(r"…\d+ s: quarkus:build", lines[1]), lines
    assert re.fullmatch(r"…done in \d+ s \(.*\)", lines[-1]) and lines[-1].endswith(f"({runner})")
