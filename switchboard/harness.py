"""A stream worker as a child process, and catalogue topics to feed and read back: for broker tests
and benchmarks.

Each `Worker` gets its own app id (consumer group), data dir and static member name, so it shares
nothing with other workers but the catalogue topics: callers filter what they read back by a
tenant id of their own. A new group would read every event topic from its first record (faust's
`earliest`), so on a broker that earlier tests filled a worker would first redo all their work;
the harness starts a new group's event topics where they stood when the worker was made
(`start_group_at`); compacted topics (state, configuration) are still read from the start.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from schemas import Codec, DecodeError, catalogue, topic
from switchboard.kafka import as_client_config, consume_available, consumer, producer


REPO = Path(__file__).resolve().parents[1]
READY = "streams worker ready"
SINCE_MARGIN_MS = 5_000   # records produced just before the worker was made are still its own


def free_ports(n: int) -> list[int]:
    """`n` different TCP ports on 127.0.0.1 that nothing listens on right now (held together while
    chosen: one at a time, the kernel may hand out the same port twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _catalogue_partitions(c, wanted, offset: int | None = None) -> list:
    """Every partition of the catalogue topics `wanted(topic)` accepts that exist on the broker, at
    `offset` (None: no offset)."""
    from confluent_kafka import OFFSET_INVALID, TopicPartition

    present = c.list_topics(timeout=10).topics
    return [TopicPartition(t.name, p, OFFSET_INVALID if offset is None else offset) for t in catalogue().values()
            if wanted(t) and t.name in present for p in present[t.name].partitions]


def start_group_at(conf: dict, group: str, since_ms: int) -> int:
    """Commit, for consumer group `group`, the offset of the first record at or after `since_ms` (the
    end when none) on every event topic of the catalogue; partitions the group has committed are left
    as they are, compacted topics are left to `earliest`. Returns the partitions committed."""
    from confluent_kafka import Consumer

    c = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        wanted = _catalogue_partitions(c, lambda t: not t.compacted, since_ms)
        if not wanted:
            return 0
        done = {(tp.topic, tp.partition) for tp in c.committed(wanted, timeout=10) if tp.offset >= 0}
        todo = [tp for tp in wanted if (tp.topic, tp.partition) not in done]
        if not todo:   # a restart: the group has its own offsets
            return 0
        found = c.offsets_for_times(todo, timeout=10)
        for tp in found:
            if tp.offset < 0:   # nothing at or after since_ms: the end
                tp.offset = c.get_watermark_offsets(tp, timeout=10)[1]
        c.commit(offsets=found, asynchronous=False)
        return len(found)
    finally:
        c.close()


def group_positions(conf: dict, group: str) -> list[str]:
    """`topic[partition] committed/end` for every catalogue partition group `group` has committed:
    where a worker that did not get somewhere stood."""
    from confluent_kafka import Consumer

    c = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        return [f"{tp.topic}[{tp.partition}] {tp.offset}/{c.get_watermark_offsets(tp, timeout=10)[1]}"
                for tp in c.committed(_catalogue_partitions(c, lambda t: True), timeout=10) if tp.offset >= 0]
    finally:
        c.close()


class WorkerProcess:
    """A stream worker child process: `start()` waits for its ready line, `kill()` is kill -9."""

    ready_marker = READY

    def __init__(self, args: list[str], env: dict[str, str], group: str | None = None):
        self.args, self.env = args, {**os.environ, **env}
        self.group, self.since_ms = group, int(time.time() * 1000) - SINCE_MARGIN_MS
        self.log: list[str] = []
        self.proc: subprocess.Popen | None = None

    def kafka_client_config(self) -> dict:
        """The child's Kafka client configuration (TLS and SASL included), from its SWITCHBOARD_KAFKA_* variables."""
        from switchboard.settings import load_settings

        kafka = {k.removeprefix("SWITCHBOARD_").lower(): v for k, v in self.env.items() if k.startswith("SWITCHBOARD_KAFKA_")}
        return load_settings(**kafka).kafka_client_config()

    def start(self, timeout: float = 60.0):
        """Start and wait for the ready line (partitions assigned, tables recovered); returns self.
        A worker of a `group` starts that group's event topics at the time it was made."""
        if self.group:
            start_group_at(self.kafka_client_config(), self.group, self.since_ms)
        self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        self.reader = threading.Thread(target=self._read, args=(self.proc, ready), daemon=True)
        self.reader.start()
        if not ready.wait(timeout):
            self.stop()
            raise AssertionError("worker not ready:\n" + "\n".join(self.log[-40:]))
        return self

    def _read(self, proc: subprocess.Popen, ready: threading.Event) -> None:
        for line in proc.stderr:
            self.log.append(line.rstrip())
            if self.ready_marker in line:
                ready.set()

    def crash_at(self, spec: str | None) -> "WorkerProcess":
        """Run the next start with SWITCHBOARD_FAULT_POINT=`spec` (streams/faults.py), None: none."""
        self.env.pop("SWITCHBOARD_FAULT_POINT", None)
        if spec:
            self.env["SWITCHBOARD_FAULT_POINT"] = spec
        return self

    def wait_crash(self, timeout: float = 60.0) -> None:
        """Wait for the worker to exit at its injected fault point (exit code 137)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            tail, mark = self.log[-40:], len(self.log)
            stacks = self.stacks()
            self.kill()
            where = group_positions(self.kafka_client_config(), self.group) if self.group else []
            raise AssertionError("worker did not reach its fault point:\n" + "\n".join(tail)
                                 + "\ncommitted/end offsets of its group:\n" + "\n".join(where)
                                 + "\nour frames in its threads and tasks (all in " + stacks + "):\n"
                                 + "\n".join(line[:200] for line in self.log[mark:] if line.startswith(("THREAD", "Stack for"))
                                             or line.startswith('  File "') and ("/streams/" in line or "/switchboard/" in line))) from None
        self.reader.join(10)   # its last lines: the pipe closes when the process exits
        if code != 137 or not any("fault injected" in line for line in self.log):
            raise AssertionError(f"worker exited {code} without its injected fault:\n" + "\n".join(self.log[-40:]))

    def stacks(self, wait: float = 3.0) -> str:
        """SIGUSR1 (mode's worker prints every thread's stack and every task to stderr), then the log
        so far in a file; returns its path. For a worker that seems stuck."""
        mark = len(self.log)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and len(self.log) == mark:
            time.sleep(0.1)
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))   # the dump is printed in one go
        path = Path(self.env.get("SWITCHBOARD_DATA_DIR") or "/tmp") / f"worker-stacks-{self.proc.pid}.txt"
        path.write_text("\n".join(self.log))
        return str(path)

    def kill(self) -> None:
        """kill -9: no flush, no commit."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(WorkerProcess):
    """`switchboard worker` with every processor of streams/processors.py and 1 s expiry scans."""

    def __init__(self, bootstrap: str, data_dir: Path, app_id: str, accounts_file: Path,
                 processors: str | None = None):
        super().__init__(
            [sys.executable, "-m", "switchboard.cli", "worker", "--name", app_id, "--app-id", app_id,
             "--expiry-interval", "1", *(["--processors", processors] if processors else [])],
            {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_DATA_DIR": str(data_dir),
             "SWITCHBOARD_ACCOUNTS_FILE": str(accounts_file), "SWITCHBOARD_LOG_LEVEL": "INFO"}, group=app_id)
        self.data_dir = Path(data_dir)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL) and leave its log so far in its data dir, worker.log."""
        super().stop()
        if self.data_dir.is_dir():
            (self.data_dir / "worker.log").write_text("\n".join(self.log))


class Topics:
    """Produce Avro events to catalogue topics and read back the ones of one tenant.

    `broker`: a bootstrap address, or the whole client configuration for a secured broker
    (`Settings.kafka_client_config()`).
    """

    def __init__(self, broker: str | dict, codec: Codec):
        self.conf = as_client_config(broker)
        self.codec = codec
        self.producer = producer(self.conf)

    def produce(self, name: str, records: list[dict], *, raw: bytes | None = None, key: str | None = None) -> None:
        """Encode and produce records (keyed by thread key), or one raw value; wait for the acks."""
        t = topic(name)
        for record in records:
            self.producer.produce(t.name, key=record["thread_key"], value=self.codec.encode(t.value, record))
        if raw is not None:
            self.producer.produce(t.name, key=key, value=raw)
        if self.producer.flush(10):
            raise AssertionError(f"records to {t.name} not acked within 10 s")

    def collect(self, name: str, tenant: str, done: Callable[[list[dict]], bool], timeout: float = 60.0) -> list[dict]:
        """Values of `name` whose tenant_id is `tenant`, read until `done(values)` or the timeout."""
        t = topic(name)
        reader = consumer(self.conf, f"test-reader-{uuid.uuid4().hex}")
        reader.subscribe([t.name])
        values, deadline = [], time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not done(values):
                for msg in consume_available(reader, 500, 0.2):
                    if msg.error() is not None or not msg.value():
                        continue
                    if t.is_dlq:
                        values.append({"key": msg.key(), "value": msg.value(), "headers": dict(msg.headers() or [])})
                        continue
                    try:
                        value = self.codec.decode(msg.value(), t.value)
                    except DecodeError:  # another test's deliberately bad record on a shared topic
                        continue
                    if value.get("tenant_id") == tenant:
                        values.append(value)
        finally:
            reader.close()
        return values
