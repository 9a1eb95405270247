"""A local single-node Kafka broker (KRaft) run from jars that Maven fetches into a cache."""
from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from confluent_kafka.admin import AdminClient

HERE = Path(__file__).parent
POM = HERE / "pom.xml"
TEMPLATE = HERE / "server.properties.tmpl"
LOG4J2 = HERE / "log4j2.properties"
MAIN_CLASS = "kafka.Kafka"
_CHILDREN: dict[int, subprocess.Popen] = {}  # brokers this process spawned: to poll and reap


class BrokerError(RuntimeError):
    """The local broker could not be fetched, formatted, started or reached."""


def kafka_version(pom: Path = POM) -> str:
    """The `kafka.version` property of the fetch POM."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    return ET.parse(pom).getroot().findtext("m:properties/m:kafka.version", namespaces=ns).strip()


def _require(tool: str, fix: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BrokerError(f"`{tool}` is not on PATH: {fix}")
    return path


def _tail(text: str, lines: int = 40) -> str:
    """The last lines of a tool's output, Java stack frames left out so the causes stay in view."""
    kept = [line for line in text.splitlines()
            if not re.match(r"\s+(at |\.\.\. \d+ more)", line)]
    return "\n".join(kept[-lines:])


def _args(pid: int) -> list[str]:
    """The process's command-line arguments; empty if it is gone (or a zombie)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_broker(pid: int, properties: Path) -> bool:
    """True if `pid` is a live broker started on `properties` (a dead child of ours is reaped)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        # Our own child: poll() is exact, and right after exec /proc/<pid>/cmdline can read empty.
        if child.poll() is None:
            return str(properties) in child.args
        del _CHILDREN[pid]
    args = _args(pid)  # a zombie or an unrelated process that reused the pid fails here
    return MAIN_CLASS in args and str(properties) in args


def say(line: str) -> None:
    """A progress line on stderr (stdout stays what a command prints for scripts)."""
    print(line, file=sys.stderr, flush=True)


def _port_taken(port: int) -> bool:
    """True if something listens on (or holds) 127.0.0.1:`port`."""
    with socket.socket() as probe:
        # As the JVM binds: connections of a broker just stopped (TIME_WAIT) do not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _cluster_id() -> str:
    """A Kafka-style cluster id: 16 random bytes, base64url without padding, not starting '-'."""
    while (cid := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))[0] == "-":
        pass  # the CLI would read a leading '-' as an option, so Kafka's Uuid avoids it too
    return cid


def _answers(bootstrap: str, timeout: float) -> bool:
    """True when the broker accepts TCP and returns metadata that lists itself."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=min(timeout, 1.0)).close()
    except OSError:
        return False  # checked first: librdkafka would log every refused connection
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        return bool(admin.list_topics(timeout=timeout).brokers)
    except Exception:  # KafkaException while the broker is still starting
        return False


PROGRESS_EVERY_S = 5.0


def _run_counting_downloads(cmd: list[str], started: float) -> tuple[int, str]:
    """Run Maven, saying every few seconds how many files it has downloaded; (exit code, its output)."""
    lines, downloaded, told = [], 0, started
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True) as run:
        for line in run.stdout:
            lines.append(line)
            # Batch mode: "[INFO] Downloaded from central: <url> (15 MB at 30 MB/s)", one line per file.
            downloaded += line.startswith("[INFO] Downloaded from ")
            if time.monotonic() - told >= PROGRESS_EVERY_S:
                told = time.monotonic()
                doing = f"{downloaded} files downloaded" if downloaded else "resolving (from ~/.m2 when cached)"
                say(f"…{doing} ({told - started:.0f} s)")
    return run.returncode, "".join(lines)


@dataclass(frozen=True)
class Listener:
    """An extra client listener on 127.0.0.1 beside the PLAINTEXT one (e.g. SASL_SSL for a secured setup).

    `config`: the broker properties it needs, usually `listener.name.<name lowercased>.*` (keystore,
    SASL mechanisms and their JAAS login modules); see the "Kafka security" part of docs/operations.md.
    """

    name: str                  # upper case, e.g. SECURE
    protocol: str              # SSL, SASL_PLAINTEXT or SASL_SSL
    port: int
    config: dict[str, str] = field(default_factory=dict)

    def properties(self) -> str:
        """Its config as server.properties lines."""
        return "".join(f"{key}={value}\n" for key, value in sorted(self.config.items()))


class LocalKafka:
    """One broker+controller node on 127.0.0.1, its state in `data_dir`, jars in `cache_dir`.

    `listeners`: extra client listeners (TLS, SASL); `scram`: SCRAM credentials written into the
    metadata when the log dir is formatted, as `kafka-storage format --add-scram` takes them
    (e.g. "SCRAM-SHA-512=[name=alice,password=alice-secret]").
    """

    def __init__(self, cache_dir: Path, data_dir: Path, port: int = 9092,
                 controller_port: int = 9093, heap: str = "512m", *,
                 listeners: tuple[Listener, ...] = (), scram: tuple[str, ...] = ()) -> None:
        self.cache_dir, self.data_dir = Path(cache_dir).resolve(), Path(data_dir).resolve()
        self.port, self.controller_port, self.heap = port, controller_port, heap
        self.listeners, self.scram = tuple(listeners), tuple(scram)
        self.version = kafka_version()
        self.properties = self.data_dir / "server.properties"
        self.pid_file = self.data_dir / "broker.pid"
        self.log_file = self.data_dir / "broker.log"
        self._log_start = 0  # where this start's lines begin in the appended-to broker.log

    # -- jars ---------------------------------------------------------------------------------

    @property
    def libs(self) -> Path:
        """Where the broker's jars live once fetched."""
        return self.cache_dir / f"kafka-{self.version}" / "libs"

    def fetch(self) -> Path:
        """Fetch the broker's jars with Maven unless a complete copy for this POM is cached."""
        _require("java", "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)")
        marker, stamp = self.libs.parent / "complete", hashlib.sha256(POM.read_bytes()).hexdigest()
        if marker.exists() and marker.read_text() == stamp:
            return self.libs
        mvn = _require("mvn", "install Maven (e.g. `apt-get install maven`) to fetch the Kafka jars")
        self.libs.parent.mkdir(parents=True, exist_ok=True)
        with open(self.libs.parent / "fetch.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers share one cache
            if not (marker.exists() and marker.read_text() == stamp):
                self._maven(mvn)
                marker.write_text(stamp)
        return self.libs

    def _maven(self, mvn: str) -> None:
        # Copy into a fresh directory and swap it in, so a failed or older fetch never mixes jars.
        staging = self.libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        say(f"fetching Kafka {self.version} jars from Maven Central (first start only, ~25 s)…")
        started = time.monotonic()
        returncode, output = _run_counting_downloads(
            [mvn, "-B", "-f", str(POM), "dependency:copy-dependencies",
             f"-DoutputDirectory={staging}", "-DincludeScope=runtime"], started)
        if returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            raise BrokerError(f"Maven could not fetch Kafka {self.version} (check network access "
                              f"to Maven Central or ~/.m2/settings.xml):\n{_tail(output)}")
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
        say(f"…done in {time.monotonic() - started:.0f} s ({len(list(self.libs.glob('*.jar')))} jars in {self.libs})")

    def _check_ports(self) -> None:
        """Refuse at once, naming the setting, when a port the new broker needs is taken."""
        for port, variable in ((self.port, "SWITCHBOARD_KAFKA_PORT"),
                               (self.controller_port, "SWITCHBOARD_KAFKA_CONTROLLER_PORT"),
                               *((listener.port, f"the {listener.name} listener's port") for listener in self.listeners)):
            if _port_taken(port):
                raise BrokerError(f"127.0.0.1:{port}: Address already in use (another broker, or another "
                                  f"program?): stop what listens there or set {variable}")

    def _java(self, jvm: list[str], main: str, *args: str) -> list[str]:
        return [_require("java", "install a Java 17+ runtime"), *jvm, "-XX:+UseSerialGC",
                f"-Dlog4j2.configurationFile={LOG4J2}", "-cp", f"{self.libs}/*", main, *args]

    # -- storage ------------------------------------------------------------------------------

    def _rendered(self) -> str:
        extra = self.listeners
        return Template(TEMPLATE.read_text()).substitute(
            port=self.port, controller_port=self.controller_port,
            log_dirs=self.data_dir / "kraft-logs",
            extra_listeners="".join(f",{x.name}://127.0.0.1:{x.port}" for x in extra),
            extra_advertised="".join(f",{x.name}://127.0.0.1:{x.port}" for x in extra),
            extra_protocols="".join(f",{x.name}:{x.protocol}" for x in extra),
            extra_config="".join(f"\n# The {x.name} listener ({x.protocol})\n{x.properties()}" for x in extra))

    def _format(self) -> None:
        """Format the log dir once; a formatted dir keeps its cluster id across restarts."""
        if (self.data_dir / "kraft-logs" / "meta.properties").exists():
            return
        scram = [arg for credential in self.scram for arg in ("--add-scram", credential)]
        cmd = self._java(["-Xmx256m"], "kafka.tools.StorageTool", "format", "-t", _cluster_id(),
                         "-c", str(self.properties), *scram)
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise BrokerError(f"formatting {self.data_dir} failed:\n{_tail(run.stdout + run.stderr)}")

    # -- process ------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        """The client address of this node."""
        return f"127.0.0.1:{self.port}"

    def _pid(self) -> int | None:
        """The pid in the pid file if it is this data dir's broker; stale pid files are removed."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if _is_broker(pid, self.properties):
            return pid
        self.pid_file.unlink(missing_ok=True)  # dead, or the pid now belongs to someone else
        return None

    def status(self) -> dict:
        """Whether this data dir's broker runs, its pid, bootstrap address and data dir."""
        pid = self._pid()
        return {"running": pid is not None, "pid": pid, "bootstrap": self.bootstrap,
                "data_dir": str(self.data_dir)}

    def start(self, timeout: float = 60) -> str:
        """Start the broker unless it already runs; return its bootstrap address once it answers."""
        pid = self._pid()
        if pid is None:
            self._check_ports()
            self.fetch()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.properties.write_text(self._rendered())
            self._format()
            self._wait_until_answering(self._spawn(), timeout, spawned=True)
        elif self.properties.read_text() != self._rendered():
            raise BrokerError(f"a broker on {self.data_dir} runs with other ports or settings "
                              f"(pid {pid}); stop it first")
        else:
            self._wait_until_answering(pid, timeout, spawned=False)
        return self.bootstrap

    def _spawn(self) -> int:
        # -Xms small: the broker grows into -Xmx only under load, so idle brokers stay light.
        cmd = self._java([f"-Xmx{self.heap}", "-Xms64m"], MAIN_CLASS, str(self.properties))
        self._log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     cwd=self.data_dir, start_new_session=True)
        _CHILDREN[child.pid] = child
        self.pid_file.write_text(f"{child.pid}\n")
        return child.pid

    def _wait_until_answering(self, pid: int, timeout: float, spawned: bool) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() != pid:
                raise BrokerError(f"the broker exited during start; {self._log_excerpt()}")
            if _answers(self.bootstrap, timeout=2.0):
                return
            time.sleep(0.25)
        excerpt = self._log_excerpt()
        if spawned:
            self.stop()  # do not leave a half-started broker of ours behind
        raise BrokerError(f"the broker did not answer on {self.bootstrap} within {timeout:.0f} s; "
                          f"{excerpt}")

    def _log_excerpt(self) -> str:
        """This start's part of broker.log, for error messages."""
        try:
            with open(self.log_file, "rb") as log:
                log.seek(self._log_start)
                text = log.read().decode(errors="replace")
        except OSError as exc:
            text = f"({exc})"
        return f"{self.log_file}:\n{_tail(text)}"

    def stop(self, timeout: float = 30) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after `timeout`); False if none was running."""
        pid = self._pid()
        if pid is None:
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                # A broker we spawned leads its own session: its group is the JVM and nothing else.
                kill = os.killpg if os.getpgid(pid) == pid else os.kill
                kill(pid, sig)
            except ProcessLookupError:
                break
            if self._wait_gone(pid, wait):
                break
        self.pid_file.unlink(missing_ok=True)
        return True

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _is_broker(pid, self.properties):
                return True
            time.sleep(0.1)
        return False
