"""The delivery ledger with 1 M entries: writing them, restarting deliver's ledger, looking ids up.

Produces N delivery-attempt records to a fresh topic configured like `delivery-ledger`, lets a
ledger read them into its store (write_s: produce + first read), writes a tail of `--tail` more
while it is closed, then restarts it in a fresh process (restart_s: open the store, read from the
stored offsets to the end; rss_mb: that process's peak resident memory) and looks up random ids
(lookup_p50_us / lookup_p99_us). Prints one JSON line.
Usage: .venv/bin/python -m benchmarks.ledger_bench [--bootstrap HOST:PORT] [--entries 1000000]
The broker is the settings' (SWITCHBOARD_KAFKA_*: TLS and SASL too, for a secured cluster);
--bootstrap replaces only its address.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import KafkaException

from connectors.ledger import Ledger
from deploy.kafka.topics import create_topics
from schemas import Codec, topic
from switchboard.kafka import producer as make_producer
from switchboard.settings import load_settings

STATES = ("sent", "failed", "sending")


def main() -> None:
    """Run the benchmark once (or, with --restart, only its restart phase) and print its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", help="the broker's address (default: SWITCHBOARD_KAFKA_BOOTSTRAP)")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=1000, help="records written while the ledger is closed")
    parser.add_argument("--lookups", type=int, default=20000)
    parser.add_argument("--restart", nargs=2, metavar=("TOPIC", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = bench_config(args.bootstrap)
    if args.restart:
        print(json.dumps(restart(config, *args.restart, args.entries, args.lookups)))
        return
    name = f"bench-ledger-{uuid.uuid4().hex[:8]}"
    create_topics(config, [dataclasses.replace(topic("delivery-ledger"), name=name)])
    with tempfile.TemporaryDirectory() as store:
        started = time.monotonic()
        produce(config, name, (f"out-{n:07d}" for n in range(args.entries)))
        produced = time.monotonic() - started
        ledger = Ledger(config, Codec(), Path(store), topic_name=name)
        assert ledger.catch_up() == args.entries
        ledger.close()
        write_s = time.monotonic() - started
        produce(config, name, (f"out-{n:07d}" for n in range(0, args.tail * 7, 7)), "sent")  # while deliver is down
        run = subprocess.run([sys.executable, "-m", "benchmarks.ledger_bench", "--bootstrap", config["bootstrap.servers"],
                              "--entries", str(args.entries), "--lookups", str(args.lookups), "--restart", name, store],
                             capture_output=True, text=True, check=True)
    result = json.loads(run.stdout.splitlines()[-1])
    print(json.dumps({"entries": args.entries, "write_s": round(write_s, 2), **result,
                      "produce_s": round(produced, 2), "first_read_s": round(write_s - produced, 2)}))


def bench_config(bootstrap: str | None) -> dict:
    """The settings' Kafka client configuration (security included), at `bootstrap` when given."""
    return load_settings(**({"kafka_bootstrap": bootstrap} if bootstrap else {})).kafka_client_config()


def produce(config: dict, name: str, ids, state: str | None = None) -> None:
    """One ledger entry per id, as deliver writes them (`state` None: sent, failed, sending in turn)."""
    codec, producer, now = Codec(), make_producer(config, **{"linger.ms": 50}), int(time.time() * 1000)
    for n, outbound_id in enumerate(ids):
        value = codec.encode("delivery-attempt", {
            "outbound_id": outbound_id, "tenant_id": "bench", "channel": "whatsapp", "state": state or STATES[n % 3],
            "updated_at": now, "platform_message_ids": [f"wamid.{outbound_id}"], "attempts": 1, "error_code": None})
        while True:
            try:
                producer.produce(name, key=outbound_id, value=value)
                break
            except (BufferError, KafkaException):  # local queue full: let it drain
                producer.poll(0.1)
    assert producer.flush(120) == 0


def restart(config: dict, name: str, store: str, entries: int, lookups: int) -> dict:
    """A deliver restarting on its store: open, read the tail, answer lookups."""
    started = time.monotonic()
    ledger = Ledger(config, Codec(), Path(store), topic_name=name)
    tail = ledger.catch_up()
    restart_s = time.monotonic() - started
    times = []
    for n in random.Random(7).sample(range(entries), min(lookups, entries)):
        before = time.perf_counter_ns()
        assert ledger.state(f"out-{n:07d}") is not None
        times.append((time.perf_counter_ns() - before) / 1000)
    ledger.close()
    times.sort()
    return {"restart_s": round(restart_s, 3), "tail_read": tail,
            "rss_mb": peak_rss_mb(),
            "lookup_p50_us": round(times[len(times) // 2], 1), "lookup_p99_us": round(times[int(len(times) * 0.99)], 1)}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's across exec)."""
    status = Path("/proc/self/status").read_text()
    return round(int(status.split("VmHWM:")[1].split()[0]) / 1024, 1)


if __name__ == "__main__":
    main()
