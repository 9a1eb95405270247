"""The local broker: one process per data dir, clean stop, stale pid files (real JVMs)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from deploy.kafka.broker import BrokerError, LocalKafka
from tests.kafka_fixture import CACHE_DIR, free_port

pytestmark = pytest.mark.kafka


def brokers_on(data_dir: Path) -> list[int]:
    """Pids of kafka.Kafka processes started on this data dir's server.properties."""
    wanted = str(data_dir.resolve() / "server.properties")
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        if b"kafka.Kafka" in args and wanted.encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


def dead_pid() -> int:
    """The pid of a process that has already exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def broker(tmp_path: Path):
    """A LocalKafka of its own on free ports; stopped even if the test fails."""
    local = LocalKafka(CACHE_DIR, tmp_path / "kafka", port=free_port(), controller_port=free_port())
    yield local
    local.stop()


def test_start_twice_runs_one_broker_and_stop_is_clean(broker: LocalKafka) -> None:
    first = broker.start()
    again = broker.start()
    twin = LocalKafka(CACHE_DIR, broker.data_dir, port=broker.port,
                      controller_port=broker.controller_port).start()

    assert first == again == twin == f"127.0.0.1:{broker.port}"
    assert brokers_on(broker.data_dir) == [broker.status()["pid"]]
    assert broker.status()["running"] is True
    assert "Kafka Server started" in broker.log_file.read_text()

    assert broker.stop() is True
    assert brokers_on(broker.data_dir) == []
    assert broker.status() == {"running": False, "pid": None, "bootstrap": first,
                               "data_dir": str(broker.data_dir)}
    assert broker.stop() is False
    assert not broker.pid_file.exists()


def test_stale_pid_file_is_ignored_and_replaced(broker: LocalKafka) -> None:
    broker.data_dir.mkdir(parents=True)
    broker.pid_file.write_text(f"{dead_pid()}\n")
    assert broker.status()["running"] is False

    broker.pid_file.write_text(f"{dead_pid()}\n")
    broker.start()
    assert brokers_on(broker.data_dir) == [int(broker.pid_file.read_text())]


def test_pid_reused_by_another_process_is_not_a_broker(broker: LocalKafka) -> None:
    broker.data_dir.mkdir(parents=True)
    broker.pid_file.write_text(f"{os.getpid()}\n")  # ours: alive, but not kafka.Kafka

    assert broker.status()["running"] is False
    assert broker.stop() is False  # and, above all, did not signal this test process
    assert not broker.pid_file.exists()


def fake_path(bin_dir: Path, mvn_script: str | None) -> str:
    """A PATH holding the real java and, if given, a fake `mvn` shell script."""
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(shutil.which("java"))
    if mvn_script is not None:
        (bin_dir / "mvn").write_text("#!/bin/sh\n" + mvn_script)
        (bin_dir / "mvn").chmod(0o755)
    return str(bin_dir)


def test_fetch_names_the_fix_when_maven_is_missing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", fake_path(tmp_path / "bin", None))
    with pytest.raises(BrokerError, match="install Maven"):
        LocalKafka(tmp_path / "cache", tmp_path / "data").fetch()


def test_fetch_reports_the_tail_of_a_failed_maven_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", fake_path(tmp_path / "bin", "echo 'Could not resolve kafka'; exit 1"))
    with pytest.raises(BrokerError, match="Could not resolve kafka"):
        LocalKafka(tmp_path / "cache", tmp_path / "data").fetch()


def test_fetch_runs_maven_once_per_cache(tmp_path, monkeypatch) -> None:
    calls = tmp_path / "calls"
    script = (f'echo run >> {calls}\n'
              'for a; do case $a in -DoutputDirectory=*) dir=${a#*=};; esac; done\n'
              f'{shutil.which("mkdir")} -p "$dir" && {shutil.which("touch")} "$dir/kafka_2.13-0.jar"\n')
    monkeypatch.setenv("PATH", fake_path(tmp_path / "bin", script))
    local = LocalKafka(tmp_path / "cache", tmp_path / "data")

    assert local.fetch() == local.fetch() == local.libs
    assert calls.read_text().count("run") == 1
    assert (local.libs / "kafka_2.13-0.jar").exists()


def test_a_broker_that_cannot_start_reports_its_log(broker: LocalKafka) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", broker.port))
        taken.listen()
        with pytest.raises(BrokerError, match="Address already in use"):
            broker.start(timeout=30)
    assert broker.status()["running"] is False
    assert brokers_on(broker.data_dir) == []
