"""`make run`: the whole system on one machine — broker, every Switchboard process, a summary.

Each role runs as its own `switchboard <role>` child process, as it would in production. The
summary counts what flowed through the topics during this run (read back from Kafka, so it shows
what really reached the broker), printed as one JSON line at the very end.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from deploy.flow import FlowCounter
from deploy.summary import capability_counts, human_counts

# The roles `make run` starts, in order (stopped in reverse). Each capability adds its line here.
PROCESSES: list[tuple[str, ...]] = [
    ("sink",),       # owns the embedded ClickHouse; first up, last down, so every fact lands
    ("worker",),     # stream processors
    # webhooks in; every simulated web visitor comes from 127.0.0.1, so the per-address guest budgets
    # (docs/channels/web.md, "Floods per source address") are raised for the demo
    ("edge", "--guest-sockets", "1000", "--guest-session-rate", "100", "--guest-session-burst", "1000",
     "--guest-request-rate", "100", "--guest-request-burst", "1000"),
    ("deliver",),    # platform send APIs out
    ("simulate", "--agents", "6"),  # the platforms, their customers, web visitors, and agents who answer
]
SETTLE_SECONDS = 20.0  # how long the sink may take to write what the others produced last


@dataclass
class Child:
    """A running `switchboard <role>` process."""

    argv: tuple[str, ...]
    proc: subprocess.Popen

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, then SIGKILL if it does not exit in time; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def _start_children(settings, bootstrap: str) -> list[Child]:
    env = os.environ | {"SWITCHBOARD_KAFKA_BOOTSTRAP": bootstrap}
    return [Child(argv, subprocess.Popen([sys.executable, "-m", "switchboard.cli", *argv], env=env))
            for argv in PROCESSES]


def _wait(settings, children: list[Child]) -> tuple[str, bool]:
    """Block until Ctrl-C / SIGTERM, the run time is up, or a child dies: (why, whether a child died)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    deadline = time.monotonic() + settings.run_seconds if settings.run_seconds else None
    while not stop.wait(0.5):
        if deadline and time.monotonic() >= deadline:
            return "run time elapsed", False
        dead = [c for c in children if c.proc.poll() is not None]
        if dead:
            return f"{' '.join(dead[0].argv)} exited with {dead[0].proc.returncode}", True
    return "interrupted", False


def _settled_fact_counts(settings, since_ms: int) -> dict:
    """The sink's counts once two reads a second apart agree (it is still writing the last batches),
    the outbound messages approved and held during the run, and what the WhatsApp messages delivered
    cost ("approved", "held", "template_cost" per currency: sink.reports.run_facts)."""
    from sink.client import NoClickHouse, connect
    from sink.reports import run_facts, summary_counts

    deadline, last = time.monotonic() + SETTLE_SECONDS, None
    try:
        client = connect(settings)
        while time.monotonic() < deadline:
            counts = summary_counts(client)
            if counts == last:
                break
            last = counts
            time.sleep(1.0)
        began = datetime.fromtimestamp(since_ms / 1000, timezone.utc)
        return (last or {}) | run_facts(client, began)
    except NoClickHouse as exc:
        return {"facts_error": str(exc)}


def _seed_directory(settings) -> list[tuple[str, str, str, str]]:
    """Publish the routing files and demo people to the directory; who may sign in."""
    from switchboard.admin_cli import Admin
    from switchboard.seed import demo_people, seed

    admin = Admin(settings)
    try:
        counts = seed(admin, settings.routing_dir, settings.people_file)
    finally:
        admin.close()
    print(f"directory seeded: {counts['written']} entries written, {counts['unchanged']} unchanged",
          file=sys.stderr, flush=True)
    return demo_people(settings.people_file)


def _print_sign_in(settings, people) -> None:
    """Where the agent desk and the widget's demo page are, and who can sign in (deploy/people.yaml)."""
    print(f"agent desk: {settings.public_url()}/  (sign in with a demo person below)", file=sys.stderr)
    print(f"demo page:  {settings.public_url()}/demo/  (a site with the web messaging widget: write as a visitor)",
          file=sys.stderr)
    for tenant, pid, role, password in people:
        print(f"  tenant {tenant}  {role:10} {pid:8} password {password}", file=sys.stderr)
    sys.stderr.flush()


def run_all(settings) -> int:
    """Start everything, wait, stop everything, print the summary line; 0 if all went well."""
    from deploy.kafka.broker import LocalKafka
    from deploy.kafka.topics import create_topics
    from schemas import Codec, catalogue

    broker = LocalKafka(cache_dir=settings.cache_dir, data_dir=settings.data_dir / "kafka",
                        port=settings.kafka_port, controller_port=settings.kafka_controller_port,
                        heap=settings.kafka_heap)
    already_running = broker.status()["running"]
    bootstrap = broker.start()
    create_topics(bootstrap, catalogue().values())
    since_ms = int(time.time() * 1000)
    counter = FlowCounter(bootstrap, since_ms=since_ms, codec=Codec.from_settings(settings),
                          client_config=settings.kafka_client_config())
    counter.start()
    people = _seed_directory(settings.model_copy(update={"kafka_bootstrap": bootstrap}))
    children = _start_children(settings, bootstrap)
    print(f"switchboard running: kafka {bootstrap}, {len(children)} processes; Ctrl-C to stop",
          file=sys.stderr, flush=True)
    _print_sign_in(settings, people)
    started = time.monotonic()
    reason, crashed = _wait(settings, children)
    sink, producers = children[:1], children[1:]
    for child in reversed(producers):
        child.stop()
    facts = _settled_fact_counts(settings, since_ms)
    for child in sink:
        child.stop()
    flowed = counter.stop()
    if not already_running:
        broker.stop()
    summary = {"ok": not crashed, "stopped": reason, "seconds": round(time.monotonic() - started, 1),
               "kafka": bootstrap, **capability_counts(counter),
               **human_counts(counter, {pid for _t, pid, role, _p in people if role == "agent"}), **facts, **flowed}
    print(json.dumps(summary, separators=(",", ":")), flush=True)
    return 1 if crashed else 0
