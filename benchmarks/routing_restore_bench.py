"""Routing domain restore (benchmark, not a test): one key range per domain vs the former full scan.

Builds `routing-state` as a faust table over RocksDB (rocksdict, the worker's options) in a tmp
dir: one domain driven through `Router` (5 agents, 94 conversations, its clock = 100 entries),
copied under `--domains` domain keys (default 10,000: 1 M entries), each domain's entries on its
murmur2 partition, loaded through the store's changelog-recovery path. The DBs are then closed and
reopened (a restarted worker; the OS page cache stays warm) and a Router over the worker's
wrappers (`_TextKeys` over `Staged`) restores:

- one domain, `--samples` times (different domains): its key range in its partition's DB (and
  the range read alone: the rest of a restore is decoding and rebuilding the ACD's indexes);
- every domain of partition 0, as after a rebalance that assigns it;
- one domain the former way (every key of every active partition tested against the prefix),
  which the former restore paid per domain: its time × the partition's domains is the estimate.

Run: `.venv/bin/python benchmarks/routing_restore_bench.py [--domains 10000] [--samples 100]`.
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faust  # noqa: E402
from faust.types import TP  # noqa: E402

from schemas import Codec, topic  # noqa: E402
from streams.routing.agent import _TextKeys, state_by_key  # noqa: E402
from streams.routing.config import parse_config  # noqa: E402
from streams.routing.router import ACTIONS, REQUESTS, Router  # noqa: E402
from streams.sequencer import partition_of  # noqa: E402
from streams.staged import Staged, event_context  # noqa: E402

T0 = 1_764_000_000_000
PARTITIONS = topic("routing-state").partitions
ROUTING_FILE = """
default_queue: general
utilization: {messaging: {capacity: 4}}
queues: {general: {alert_timeout_seconds: 30, acw: {mode: optional, timeout_seconds: 60}}}
agents: {%s}
""" % ", ".join(f"a{i}: {{languages: [en], queues: [general]}}" for i in range(5))


class Event:
    """What faust's tables read of an event: its message (partition, key, offset)."""

    def __init__(self, partition: int, key: bytes = b"", value: bytes = b"", offset: int = 0):
        self.key, self.value = key, value
        self.message = SimpleNamespace(partition=partition, key=key, value=value, offset=offset,
                                       tp=TP(topic("routing-state").name, partition))


class FullScan(MutableMapping):
    """The table without a range read: `Router.state` then tests every key (the former restore)."""

    def __init__(self, table):
        self.table, self.visited = table, 0

    def __getitem__(self, key):
        return self.table[key]

    def __setitem__(self, key, value):
        self.table[key] = value

    def __delitem__(self, key):
        del self.table[key]

    def __iter__(self):
        for key in self.table:
            self.visited += 1
            yield key

    def __len__(self):
        return len(self.table)


def template(configs, codec: Codec) -> dict[str, bytes]:
    """One driven domain's entries, keyed without their domain key."""
    router = Router({}, configs, codec)
    for i in range(5):
        router.handle(ACTIONS, {"action_id": f"p{i}", "tenant_id": "bench", "agent_id": f"a{i}", "type": "presence",
                                "occurred_at": T0, "presence": "on_queue"}, 0)
    for n in range(94):
        router.handle(REQUESTS, {"request_id": f"r{n}", "tenant_id": "bench", "conversation_id": f"c{n}",
                                 "thread_key": f"bench:web:site:u{n}", "customer_id": f"u{n}", "channel": "web",
                                 "channel_account_id": "site", "reason": "new_conversation", "requested_at": T0 + n,
                                 "first_message_text": "hi", "language": None, "preferred_agent_id": None,
                                 "history": [{"occurred_at": T0 + n, "direction": "inbound", "channel": "web",
                                              "text": "hi"}]}, 0)
    return {k.partition(":")[2]: v for k, v in router.table.items()}


def open_table(data_dir: str) -> faust.Table:
    """routing-state as the worker declares it (`streams.routing.agent`), on a fresh app."""
    app = faust.App(f"bench-{uuid.uuid4().hex[:8]}", store="rocksdb://", datadir=data_dir, autodiscover=False,
                    web_enabled=False)
    table = app.Table("routing-state", key_type=bytes, value_type=bytes, partitions=PARTITIONS,
                      options=dict(state_by_key.options))
    actives = {TP(table.changelog_topic_name, p) for p in range(PARTITIONS)}
    app.assignor.assigned_actives = lambda: actives   # this worker owns every partition
    for partition in range(PARTITIONS):
        table.data._db_for_partition(partition)       # opened at assignment, as faust does
    return table


def load(table: faust.Table, keys: list[str], entries: dict[str, bytes]) -> None:
    """Every domain's entries on its partition, through the store's changelog-recovery path."""
    for offset, key in enumerate(keys):
        partition = partition_of(key, PARTITIONS)
        batch = [Event(partition, f"{key}:{k}".encode(), v, offset) for k, v in entries.items()]
        table.data.apply_changelog_batch(batch, to_key=lambda k: k, to_value=lambda v: v)
    for db in table.data._dbs.values():
        db.close()


def read(staged: Staged, key: str) -> float:
    """Seconds to read one domain's key range (keys and raw values, nothing decoded)."""
    start = time.perf_counter()
    with event_context(Event(partition_of(key, PARTITIONS))):
        list(staged.items_with_prefix(f"{key}:".encode()))
    return time.perf_counter() - start


def restore(router: Router, key: str) -> float:
    """Seconds to rebuild one domain under an event of its partition, as a worker does."""
    router.discard(key)
    start = time.perf_counter()
    with event_context(Event(partition_of(key, PARTITIONS))):
        router.state(key, key)   # a tenant per domain key (every one routed with the same file)
    return time.perf_counter() - start


def main() -> None:
    """Build, reopen, restore; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    codec, config = Codec(), parse_config(ROUTING_FILE, "bench")
    configs = SimpleNamespace(get=lambda tenant: config)
    entries, keys = template(configs, codec), [f"tenant-{i}" for i in range(args.domains)]
    with tempfile.TemporaryDirectory() as data_dir:
        start = time.perf_counter()
        load(open_table(data_dir), keys, entries)
        loaded = time.perf_counter() - start
        staged = Staged(open_table(data_dir))
        router = Router(_TextKeys(staged), configs, codec)
        sample = random.Random(15).sample(keys, args.samples)
        one = sorted(restore(router, key) for key in sample)
        visited_one = staged.ranges.metrics["visited"] / args.samples
        reads = sorted(read(staged, key) for key in sample)
        on_zero = [key for key in keys if partition_of(key, PARTITIONS) == 0]
        before, start = staged.ranges.metrics["visited"], time.perf_counter()
        for key in on_zero:
            restore(router, key)
        partition_s, partition_visited = time.perf_counter() - start, staged.ranges.metrics["visited"] - before
        scan = FullScan(_TextKeys(staged))
        scan_s = restore(Router(scan, configs, codec), sample[0])
    print(json.dumps({
        "entities": len(entries) * args.domains, "domains": args.domains, "partitions": PARTITIONS,
        "load_s": round(loaded, 1),
        "one_domain": {"entries": len(entries), "range_ms_median": round(statistics.median(one) * 1000, 2),
                       "range_ms_p99": round(one[int(len(one) * 0.99) - 1] * 1000, 2),
                       "range_keys_visited": visited_one,
                       "range_read_only_ms_median": round(statistics.median(reads) * 1000, 2),
                       "full_scan_ms": round(scan_s * 1000, 1), "full_scan_keys_visited": scan.visited},
        "one_partition": {"domains": len(on_zero), "range_s": round(partition_s, 2),
                          "range_keys_visited": partition_visited,
                          "full_scan_s_estimated": round(scan_s * len(on_zero), 1),
                          "full_scan_keys_visited_estimated": scan.visited * len(on_zero)}}))


if __name__ == "__main__":
    main()
