"""The whole system for the pipeline benchmark: a scratch broker, the demo's files made for this run,
and every role as a `switchboard <role>` child process (switchboard/harness.py's WorkerProcess).

A scratch broker (free ports, a temporary data dir) by default, so a run starts from empty topics
and tables and two runs are comparable; `--bootstrap` uses a running one instead. The demo tenant
`acme` gets a routing file with `agents` generated agents who speak every language and work every
queue, seeded into this broker's directory, and `switchboard simulate --no-customers --agents N`
puts them on queue, takes offers, replies and wraps up; the benchmark itself plays the customers.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml

from switchboard.harness import REPO, Worker, WorkerProcess, free_ports

CACHE_DIR = REPO / ".cache"   # the broker's jars, shared with the tests and `make run`
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (/proc/stat: all but idle, iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS   # utime stime cutime cstime


def scratch_broker(tmp: Path):
    """A LocalKafka on free ports in `tmp`, started, with every catalogue topic: (broker, bootstrap)."""
    from deploy.kafka.broker import LocalKafka
    from deploy.kafka.topics import create_topics
    from schemas import catalogue

    port, controller_port = free_ports(2)
    broker = LocalKafka(CACHE_DIR, tmp / "kafka", port=port, controller_port=controller_port, heap="1g")
    bootstrap = broker.start()
    create_topics(bootstrap, catalogue().values())
    return broker, bootstrap


def _files(tmp: Path, ports: dict, agents: int) -> dict[str, str]:
    """This run's accounts file (the simulators' and edge's ports), routing dir (generated agents)
    and people file, as the roles' environment."""
    accounts = (REPO / "deploy/accounts.yaml").read_text().replace("127.0.0.1:8090", f"127.0.0.1:{ports['sim']}")
    (tmp / "accounts.yaml").write_text(accounts.replace("127.0.0.1:8080", f"127.0.0.1:{ports['edge']}"))
    routing = yaml.safe_load((REPO / "deploy/routing/acme.yaml").read_text())
    every = {"skills": {"cards": 5, "billing": 5}, "languages": ["en", "es", "pt", "fr", "de", "ja"],
             "queues": list(routing["queues"])}
    routing["agents"] = {f"agent-{n:05d}": every for n in range(agents)}
    (tmp / "routing").mkdir()
    (tmp / "routing/acme.yaml").write_text(yaml.safe_dump(routing, sort_keys=False))
    return {"SWITCHBOARD_ACCOUNTS_FILE": str(tmp / "accounts.yaml"), "SWITCHBOARD_ROUTING_DIR": str(tmp / "routing"),
            "SWITCHBOARD_PEOPLE_FILE": str(REPO / "deploy/people.yaml")}


class Role(WorkerProcess):
    """`switchboard <role>`, ready at a line of its log (and, with `url`, once that answers 200)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], marker: str, url: str | None = None):
        super().__init__([sys.executable, "-m", "switchboard.cli", name, *argv], env)
        self.name, self.ready_marker, self.url = name, marker, url

    def start(self, timeout: float = 90.0):
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while self.url and not _answers(self.url):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                self.reader.join(5)   # its last lines
                raise AssertionError(f"{self.name} (exit {self.proc.returncode}) not answering {self.url}:\n" + "\n".join(self.log[-40:]))
            time.sleep(0.2)
        return self


def _answers(url: str) -> bool:
    """Whether `url` answers at all (any HTTP status: the edge's health path sits behind its auth)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class System:
    """Broker, sink, worker, edge, deliver and the simulators (with agents), started in that order."""

    def __init__(self, tmp: Path, bootstrap: str | None, agents: int, log_dir: Path):
        self.tmp, self.agents, self.broker, self.log_dir = tmp, agents, None, log_dir
        if bootstrap is None:
            self.broker, bootstrap = scratch_broker(tmp)
        self.bootstrap, run = bootstrap, uuid.uuid4().hex[:8]
        self.ports = dict(zip(("edge", "sim", "sink"), free_ports(3)))
        self.edge_url, self.sim_url = f"http://127.0.0.1:{self.ports['edge']}", f"http://127.0.0.1:{self.ports['sim']}"
        (tmp / "data").mkdir()
        self.env = {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap, "SWITCHBOARD_DATA_DIR": str(tmp / "data"),
                    "SWITCHBOARD_EDGE_PORT": str(self.ports["edge"]), "SWITCHBOARD_SINK_PORT": str(self.ports["sink"]),
                    "SWITCHBOARD_WORKER_PORT": "0", "SWITCHBOARD_DELIVER_PORT": "0",
                    "SWITCHBOARD_AUTH_SECRET": f"bench-auth-secret-{uuid.uuid4().hex}", "SWITCHBOARD_LOG_LEVEL": "INFO",
                    **_files(tmp, self.ports, agents)}
        worker = Worker(bootstrap, tmp / "data", f"bench-worker-{run}", Path(self.env["SWITCHBOARD_ACCOUNTS_FILE"]))
        worker.env.update(self.env)
        worker.args[worker.args.index("--expiry-interval") + 1] = "30"   # the role's default, not the tests' 1 s
        worker.name = "worker"
        self.roles = [
            Role("sink", ["--group", f"bench-sink-{run}"], self.env, "sink ready:",
                 f"http://127.0.0.1:{self.ports['sink']}/healthz"),
            worker,
            Role("edge", ["--port", str(self.ports["edge"]), "--transactional-id", f"bench-edge-{run}"], self.env,
                 "outside targets", f"{self.edge_url}/healthz"),
            Role("deliver", ["--group", f"bench-deliver-{run}"], self.env, "outside targets"),
            Role("simulate", ["--port", str(self.ports["sim"]), "--edge-url", self.edge_url, "--no-customers",
                              "--no-web", "--agents", str(agents), "--agent-speed", "5", "--receipt-delay", "0.2"],
                 self.env, "simulators on", f"{self.sim_url}/_sim/health"),
        ]

    def start(self) -> "System":
        """Seed the directory (tenant, queues, agents, people), then start every role in order."""
        done = subprocess.run([sys.executable, "-m", "switchboard.cli", "admin", "seed"], cwd=REPO,
                              env=os.environ | self.env, capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise AssertionError(f"switchboard admin seed failed:\n{done.stderr[-3000:]}")
        for role in self.roles:
            role.start(180)
        return self

    def pids(self) -> dict[str, int]:
        """The process id of each role, and the broker's when this run started it."""
        found = {role.name: role.proc.pid for role in self.roles if role.proc}
        if self.broker is not None and (pid := self.broker._pid()):
            found["broker"] = pid
        return found

    def stop_roles(self) -> None:
        """Stop the roles in reverse order (the broker keeps running); their logs into `log_dir`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for role in reversed(self.roles):
            role.stop()
            (self.log_dir / f"{role.name}.log").write_text("\n".join(role.log) + "\n")

    def stop(self) -> None:
        """Stop the roles, then the scratch broker."""
        self.stop_roles()
        if self.broker is not None:
            self.broker.stop()

    def settings(self):
        """Settings that reach this run's sink (its ClickHouse interface) and broker."""
        from switchboard.settings import load_settings

        return load_settings(kafka_bootstrap=self.bootstrap, data_dir=self.tmp / "data", sink_port=self.ports["sink"])
