"""The whole running system, once per test package that imports it into its conftest (tests/browser).

`running_system` seeds the directory (`switchboard admin seed`) into the session's broker, then
starts `sink`, `worker`, `edge`, `deliver` and `simulate` as child processes on free ports with a
temporary data dir and an accounts file pointing at the simulators. The simulators send no
random customers (`--no-customers`): every customer message comes from a test through the control
API, so no test threads into another's conversation. Two simulated agents still take the demo
queues; the tests' people work a queue of their own (`vip`, reached by the keyword "vip", and
`vip-escalations`, a transfer target), added to copies of the demo routing and people files.
Nothing here skips: a role that does not come up fails the tests that use it.

Package scope, not session: its worker, sink and deliver read every topic of the session's broker
(and write the processors' shared changelogs), so while it runs they would also process what other
tests' own workers are given and double what those tests read back. The system-level tests live
in one package and share one system; it stops when they are done.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import json
import urllib.request

import pytest
import yaml

from schemas import Codec
from sink.faults import ENV as SINK_FAULT_ENV
from switchboard.harness import Topics, free_ports

REPO = Path(__file__).resolve().parents[1]
TENANT = "acme"
# The tests' own queues: simulated agents (deploy/routing/acme.yaml `agents:`) are not on them.
TEST_QUEUES = {
    "vip": {"alert_timeout_seconds": 60, "acw": {"mode": "optional", "timeout_seconds": 120},
            "wrapup_codes": ["resolved", "follow-up"]},
    "vip-escalations": {"alert_timeout_seconds": 60, "acw": {"mode": "mandatory"},
                        "wrapup_codes": ["escalated", "resolved"]},
}
TEST_RULE = {"name": "vip", "when": {"keywords": {"en": ["vip"]}}, "then": {"queue": "vip", "priority": 20}}
TEST_PEOPLE_QUEUES = {"alice": ["vip"], "bob": ["vip-escalations"]}
# A second tenant in the same deployment (tests/browser/test_tenant_isolation.py): its own Open
# Messaging account, routing file and people — an agent `alice` too, so nothing keyed by person id
# alone can serve one tenant's conversation to the other's.
OTHER_TENANT = "beta"
OTHER_ACCOUNT = {"channel": "open", "country": "US", "account_id": "beta-sms-gateway",
                 "secret": "test-beta-open-inbound-secret", "outbound_secret": "test-beta-open-outbound-secret",
                 "outbound_url": "http://127.0.0.1:{sim}/open/beta-sms-gateway/messages", "media_hosts": ["127.0.0.1"]}
OTHER_ROUTING = {"default_queue": "general", "utilization": {"messaging": {"capacity": 4}},
                 "queues": {"general": {"alert_timeout_seconds": 60, "acw": {"mode": "optional", "timeout_seconds": 120},
                                        "wrapup_codes": ["resolved"]}}}
OTHER_PEOPLE = {"tenant": {"name": "Beta Telecom"}, "people": {
    "alice": {"name": "Alice Beta", "role": "agent", "password": "test-password-beta-alice", "queues": ["general"],
              "capacity": {"messaging": 3}},
    "vera": {"name": "Vera Beta", "role": "supervisor", "password": "test-password-beta-vera"},
    "bruno": {"name": "Bruno Beta", "role": "admin", "password": "test-password-beta-bruno"}}}


@dataclass
class Role:
    """One `switchboard <role>` child process, its log in a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    ready: Callable[["Role"], Callable[[], bool]] | None = None   # a role's readiness check, if it has one
    lives: int = 0

    def start(self) -> "Role":
        """Start the process, stdout and stderr into its log file."""
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "switchboard.cli", *self.argv], cwd=REPO,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def log(self, lines: int = 40) -> str:
        """The last lines of its log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float = 90) -> None:
        """Poll `ready` until true; fail with the log if the process dies or the time is up."""
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready within {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill(self) -> int:
        """SIGKILL now (what kill -9 leaves: nothing flushed, nothing committed); its exit code."""
        self.proc.kill()
        return self.proc.wait(10)

    def restart(self, extra_env: dict[str, str] | None = None, timeout: float = 90) -> "Role":
        """Stop it unless it is dead, start it again (with `extra_env` this once, e.g. a fault point)
        and wait until it is ready; the previous life's log is kept as `<name>.<n>.log`."""
        self.stop()
        self.lives += 1
        if self.log_path.exists():
            self.log_path.rename(self.log_path.with_name(f"{self.name}.{self.lives}.log"))
        env, self.env = self.env, self.env | (extra_env or {})
        try:
            self.start()
        finally:
            self.env = env
        if self.ready:
            self.wait_until(self.ready(self), timeout)
        return self


def _listening(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0
    return check


def _json(method: str, url: str, body: dict | None = None):
    """One JSON call to a local role (the simulators' control API)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _in_log(role: Role, marker: str) -> Callable[[], bool]:
    return lambda: marker in role.log(10_000)


@dataclass
class RunningSystem:
    """Base URLs of the running roles, the simulators' control API and a Kafka reader."""

    edge_url: str
    sim_url: str
    sink_url: str
    bootstrap: str
    data_dir: Path
    roles: dict[str, Role]
    topics: Topics
    tenant: str = TENANT
    sink_fault_file: Path | None = None   # see sink/faults.py: a future time in it makes the sink refuse inserts
    _handed_out: set[int] = field(default_factory=set)

    def customer(self, *channels: str, without: tuple[str, ...] = ()) -> dict:
        """A pool customer on every one of `channels` (and none of `without`) that no other test of
        this session has used."""
        for index, person in enumerate(_json("GET", f"{self.sim_url}/_sim/customers")):
            if index not in self._handed_out and set(channels) <= set(person["channels"]) \
                    and not set(without) & set(person["channels"]):
                self._handed_out.add(index)
                return person | {"index": index}
        raise AssertionError(f"the simulators' pool has no unused customer on {channels}")

    def customer_writes(self, channel: str, customer: dict, text: str | None = None, kind: str = "text",
                        account_id: str | None = None) -> dict:
        """The simulated customer sends one message now (to the channel's first account, or `account_id`);
        the simulator's answer (edge status, event)."""
        body = {"customer": customer["index"], "kind": kind, "seed": 1} | ({"text": text} if text else {}) \
            | ({"account_id": account_id} if account_id else {})
        answer = _json("POST", f"{self.sim_url}/_sim/{channel}/customers/messages", body)
        assert answer["status"] == 200, answer
        return answer

    def received(self, channel: str, since: int = 0) -> list[dict]:
        """What the simulated platform's send API received (method, path, body, status…)."""
        return _json("GET", f"{self.sim_url}/_sim/{channel}/requests?since={since}")

    def wait_received(self, channel: str, match: Callable[[dict], bool], timeout: float = 30) -> dict:
        """The first request the platform received that `match` accepts, polled until `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.received(channel) if match(r)]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"{channel} received nothing matching within {timeout} s")

    def read(self, topic: str, done: Callable[[list[dict]], bool], timeout: float = 60) -> list[dict]:
        """The tenant's records on `topic`, from the beginning, until `done(records)` or the timeout."""
        return self.topics.collect(topic, self.tenant, done, timeout)


def _accounts_file(tmp: Path, sim_port: int, edge_port: int) -> Path:
    """deploy/accounts.yaml with the simulators' and the edge's demo ports replaced by this run's, and
    the second tenant's account."""
    text = (REPO / "deploy" / "accounts.yaml").read_text()
    text = text.replace("127.0.0.1:8090", f"127.0.0.1:{sim_port}")
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{edge_port}").replace("localhost:8080", f"localhost:{edge_port}")
    data = yaml.safe_load(text)
    data["tenants"][OTHER_TENANT] = {"accounts": [OTHER_ACCOUNT | {
        "outbound_url": OTHER_ACCOUNT["outbound_url"].format(sim=sim_port)}]}
    path = tmp / "accounts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _routing_dir(tmp: Path) -> Path:
    """Copies of deploy/routing/*.yaml; the demo tenant's gains the tests' queues and rule if it lacks them."""
    target = tmp / "routing"
    target.mkdir()
    for source in (REPO / "deploy" / "routing").glob("*.yaml"):
        data = yaml.safe_load(source.read_text())
        if source.stem == TENANT:
            data["queues"] = TEST_QUEUES | data.get("queues", {})   # the demo's own `vip` wins
            if not any(rule.get("name") == TEST_RULE["name"] for rule in data.get("rules", [])):
                data["rules"] = [TEST_RULE, *data.get("rules", [])]
        (target / source.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    (target / f"{OTHER_TENANT}.yaml").write_text(yaml.safe_dump(OTHER_ROUTING, sort_keys=False))
    return target


def _people_file(tmp: Path, edge_port: int) -> Path:
    """A copy of deploy/people.yaml whose test agents work only the tests' queues, and whose demo
    deployment's origins are this run's edge (it serves the demo page)."""
    text = (REPO / "deploy" / "people.yaml").read_text()
    data = yaml.safe_load(text.replace("127.0.0.1:8080", f"127.0.0.1:{edge_port}")
                          .replace("localhost:8080", f"localhost:{edge_port}"))
    _set_queues(data)
    data["tenants"][OTHER_TENANT] = OTHER_PEOPLE   # after _set_queues: its alice keeps her own queue
    path = tmp / "people.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _set_queues(node) -> None:
    """Find each test person (a mapping keyed by id, or an entry with `id`/`username`) and set its queues."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEST_PEOPLE_QUEUES and isinstance(value, dict):
                value["queues"] = TEST_PEOPLE_QUEUES[key]
            else:
                _set_queues(value)
        person = node.get("id") or node.get("username")
        if person in TEST_PEOPLE_QUEUES:
            node["queues"] = TEST_PEOPLE_QUEUES[person]
    elif isinstance(node, list):
        for item in node:
            _set_queues(item)


def _seed(env: dict[str, str], tmp: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "switchboard.cli", "admin", "seed"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"switchboard admin seed failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="package")
def running_system(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """Every role of the system against the session's broker, started once per package, stopped after it."""
    tmp = tmp_path_factory.mktemp("system")
    run = uuid.uuid4().hex[:8]
    ports = dict(zip(("edge", "sim", "sink"), free_ports(3)))
    env = os.environ | {
        "SWITCHBOARD_KAFKA_BOOTSTRAP": kafka_bootstrap, "SWITCHBOARD_DATA_DIR": str(tmp / "data"),
        "SWITCHBOARD_ACCOUNTS_FILE": str(_accounts_file(tmp, ports["sim"], ports["edge"])),
        "SWITCHBOARD_ROUTING_DIR": str(_routing_dir(tmp)), "SWITCHBOARD_PEOPLE_FILE": str(_people_file(tmp, ports["edge"])),
        "SWITCHBOARD_EDGE_PORT": str(ports["edge"]), "SWITCHBOARD_SINK_PORT": str(ports["sink"]),
        "SWITCHBOARD_AUTH_SECRET": f"test-auth-secret-of-this-session-{uuid.uuid4().hex}", "SWITCHBOARD_LOG_LEVEL": "INFO"}
    (tmp / "data").mkdir()
    _seed(env, tmp)
    edge_url, sim_url = f"http://127.0.0.1:{ports['edge']}", f"http://127.0.0.1:{ports['sim']}"
    # The sink's store hook of the fault tier (sink/faults.py): armed, it refuses nothing until a test
    # writes a future time into this file (tests/browser/test_faults_under_load.py).
    sink_fault_file = tmp / "sink-refuse-until"
    roles = {name: Role(name, argv, env | extra, tmp / f"{name}.log", ready=ready) for name, argv, extra, ready in [
        ("sink", ["sink", "--group", f"sys-sink-{run}"], {SINK_FAULT_ENV: str(sink_fault_file)},
         lambda r: _listening(ports["sink"])),
        ("worker", ["worker", "--name", f"sys-{run}", "--app-id", f"sys-worker-{run}", "--expiry-interval", "1"], {},
         lambda r: _in_log(r, "streams worker ready")),
        # every test's web visitor comes from 127.0.0.1: the per-address guest budgets are raised
        ("edge", ["edge", "--port", str(ports["edge"]), "--transactional-id", f"sys-edge-{run}",
                  "--guest-sockets", "1000", "--guest-session-rate", "100", "--guest-session-burst", "1000",
                  "--guest-request-rate", "100", "--guest-request-burst", "1000"], {},
         lambda r: _listening(ports["edge"])),
        ("deliver", ["deliver", "--group", f"sys-deliver-{run}"], {}, None),
        ("simulate", ["simulate", "--port", str(ports["sim"]), "--edge-url", edge_url, "--no-customers",
                      "--agents", "2", "--agent-speed", "4", "--receipt-delay", "0.2"], {},
         lambda r: _listening(ports["sim"])),
    ]}
    started: list[Role] = []
    try:
        for role in roles.values():
            started.append(role.start())
            if role.ready:
                role.wait_until(role.ready(role))
        yield RunningSystem(edge_url, sim_url, f"http://127.0.0.1:{ports['sink']}", kafka_bootstrap, tmp / "data",
                            roles, Topics(kafka_bootstrap, Codec()), sink_fault_file=sink_fault_file)
    finally:
        for role in reversed(started):
            role.stop()
