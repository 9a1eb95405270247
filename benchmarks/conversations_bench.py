"""Throughput of the conversation processor's inbound path: inbound-messages -> conversation-events.

Starts a `switchboard worker` (fresh app id, RocksDB store), produces N inbound messages over T
threads with the edge's producer settings, and times until every message_added is read back.
Prints one JSON line. Usage: .venv/bin/python -m benchmarks.conversations_bench --bootstrap HOST:PORT
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from schemas import Codec
from streams.conversations.samples import inbound, on_thread
from switchboard.harness import REPO, Topics, Worker

ACCOUNTS = REPO / "deploy" / "accounts.yaml"   # the demo's: WhatsApp 109876543210987, deployment window


def main() -> None:
    """Run the benchmark once and print its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2000)
    args = parser.parse_args()
    tenant, now = f"bench{uuid.uuid4().hex[:8]}", int(time.time() * 1000)
    batch = [on_thread(inbound(n, now - args.messages + n, platform_message_id=f"b.{n}", event_id=f"in-{tenant}-{n}"),
                       f"{tenant}:whatsapp:109876543210987:u{n % args.threads}") for n in range(args.messages)]
    topics = Topics(args.bootstrap, Codec())
    with tempfile.TemporaryDirectory() as data_dir:
        worker = Worker(args.bootstrap, Path(data_dir), f"bench-{uuid.uuid4().hex[:8]}", ACCOUNTS)
        worker.start()
        try:
            started = time.monotonic()
            topics.produce("inbound-messages", batch)
            produced = time.monotonic() - started
            values = topics.collect("conversation-events", tenant, lambda v: _added(v) >= args.messages, timeout=600)
            seconds = time.monotonic() - started
        finally:
            worker.stop()
    print(json.dumps({"messages": args.messages, "threads": args.threads, "message_added": _added(values),
                      "conversation_events": len(values), "produce_seconds": round(produced, 2),
                      "seconds": round(seconds, 2), "messages_per_s": round(args.messages / seconds)}))


def _added(values: list[dict]) -> int:
    return sum(1 for v in values if v["type"] == "message_added")


if __name__ == "__main__":
    main()
