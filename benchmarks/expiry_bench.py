"""The conversation expiry scan over 1 M threads: the time-ordered index against the old full scan.

No broker: the two tables are faust RocksDB stores (`rocksdb://`, the agent's options) filled as
faust restores them (`Store.apply_changelog_batch` over the changelog records the agent writes:
one `conversation-state` entry and two `conversation-due-index` entries per thread). Figures, each
as wall `_s` and process CPU `_cpu_s` (RocksDB's threads included; the machine may be shared):
- `restore_threads` / `restore_index`: applying each table's changelog records to an empty store
  (a worker on a fresh disk; fetching them from Kafka is not included);
- `scan`, `visited`: one scan at a `now` where `--due` threads are due (index seek, state reads,
  findings, encoded timeouts), as `agent.scan` does it; `scan_again`: the next one, caches warm;
- `restart_s` = `reopen` (the stores opened from disk: a restarted worker keeps its RocksDB and
  reads only the changelogs' tail) + `scan_after_restart`;
- `full_scan_*`: the old scan (decode every state, call `finding`) timed on `--sample` threads and
  scaled to all of them; `read_all_raw_s`: reading every raw entry of the thread table alone.
Prints one JSON line. Usage: .venv/bin/python -m benchmarks.expiry_bench [--threads 1000000]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import types
from pathlib import Path

import faust
from faust.types import TP

from schemas import Codec, topic
from streams.conversations import due, expiry
from streams.conversations.agent import ROCKSDB_OPTIONS
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.samples import inbound, on_thread
from streams.conversations.state import StateCodec
from streams.records import Output
from switchboard.accounts import load_accounts
from switchboard.harness import REPO

ACCOUNTS = REPO / "deploy" / "accounts.yaml"   # the demo's: WhatsApp 109876543210987
PARTITIONS, T0, HOUR = 6, 1_764_063_000_000, 3_600_000
FAUST_KEYS = b"__faust"   # the store's own entries (the changelog offset it reached)
CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
STATES = StateCodec(Codec())


def templates(n: int) -> list[dict]:
    """`n` thread states, one per finding kind in turn, first messages 2 min 10 s apart."""
    def state(i: int) -> dict:
        key = f"bench:whatsapp:109876543210987:u{i:06d}.0000"
        return apply("inbound-messages", None, on_thread(inbound(i, T0 + i * 130_003), key), partition=0,
                     record_ms=T0 + i * 130_003, config=CONFIG).state
    kinds = [lambda s: s,                                                          # identity_wait
             lambda s: s | {"identity_waiting": []},                               # window_closed
             lambda s: s | {"identity_waiting": [], "outbound_since_inbound": 1},  # expired
             lambda s: s | {"conversation": None}]                                 # forget
    return [kinds[i % len(kinds)](state(i)) for i in range(n)]


def changelog(threads: int, copies: int):
    """(partition, table, key, value) of every changelog record, and each thread's due instant."""
    dues, records = [], []
    for n, template in enumerate(templates(threads // copies)):
        encoded, name = STATES.dumps(template), template["thread_key"].encode()
        at = expiry.next_due(template, window_ms=CONFIG.window_of(template), ttl_ms=CONFIG.ttl_ms)
        for c in range(copies):
            key = name[:-4] + b"%04d" % c   # same length: the Avro string's length prefix still holds
            p, index = (n + c) % PARTITIONS, {}
            due.place(index, key, at)
            records.append((p, "threads", key, encoded.replace(name, key)))
            records += [(p, "index", k, v) for k, v in index.items()]
            dues.append(at)
    return records, dues


def stores(data_dir: Path) -> dict:
    """The two tables' RocksDB stores in `data_dir` (a fresh app: as a restarted worker opens them)."""
    app = faust.App("expiry-bench", store="rocksdb://", datadir=str(data_dir), autodiscover=False)
    tables = {"threads": app.Table("conversation_by_thread", key_type=bytes, value_type=bytes,
                                   partitions=PARTITIONS, options=dict(ROCKSDB_OPTIONS)),
              "index": app.Table("thread_by_due", key_type=bytes, value_type=bytes, partitions=PARTITIONS,
                                 options=dict(ROCKSDB_OPTIONS))}
    opened = {name: table.data for name, table in tables.items()}
    for store in opened.values():
        for p in range(PARTITIONS):
            store._db_for_partition(p)
    return opened


def restore(opened: dict, records: list, chunk: int = 10_000) -> None:
    """Apply the changelog records as faust's recovery does, in batches."""
    for start in range(0, len(records), chunk):
        batches = {"threads": [], "index": []}
        for offset, (p, table, key, value) in enumerate(records[start:start + chunk], start):
            message = types.SimpleNamespace(tp=TP(table, p), offset=offset, partition=p, key=key, value=value)
            batches[table].append(types.SimpleNamespace(message=message))
        for table, batch in batches.items():
            opened[table].apply_changelog_batch(batch, None, None)


def scan(opened: dict, now: int, metrics: dict) -> int:
    """What `agent.scan` does for the threads due by `now`: the timeouts it would send."""
    index, name, sent = due.DueIndex(lambda: list(opened["index"]._dbs.values()), metrics), \
        topic("conversation-timeouts").name, []
    for key in index.due(now):
        state = STATES.loads(opened["threads"][key])
        found = expiry.finding(state, now, window_ms=CONFIG.window_of(state), ttl_ms=CONFIG.ttl_ms)
        if found:
            sent.append(Output(name, key, "conversation-timeout", found, partition=state["partition"])
                        .encoded(STATES._codec))
    return len(sent)


def full_scan(opened: dict, now: int, sample: int) -> tuple[float, float]:
    """(seconds of the old scan over `sample` threads, seconds to read every raw entry of the table)."""
    dbs = list(opened["threads"]._dbs.values())
    started = time.perf_counter()
    for db in dbs:
        for _ in db.items():
            pass
    read_all = time.perf_counter() - started
    values = (v for db in dbs for k, v in db.items() if not k.startswith(FAUST_KEYS))
    started = time.perf_counter()
    for _, value in zip(range(sample), values):
        state = STATES.loads(value)
        expiry.finding(state, now, window_ms=CONFIG.window_of(state), ttl_ms=CONFIG.ttl_ms)
    return time.perf_counter() - started, read_all


class Clock:
    """Wall and CPU seconds (the process's, RocksDB's threads included) of each timed step."""

    def __init__(self):
        self.figures = {}

    def __call__(self, name: str, step, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        result = step(*args)
        self.figures[f"{name}_s"] = round(time.perf_counter() - wall, 3)
        self.figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 3)
        return result


def main() -> None:
    """Run the benchmark once and print its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=100, help="threads per built template state (same due)")
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    clock, metrics = Clock(), {}
    records, dues = clock("build", changelog, args.threads, args.copies)
    now = sorted(dues)[args.due - 1]
    with tempfile.TemporaryDirectory() as data_dir:
        opened = stores(Path(data_dir))
        for table in ("threads", "index"):
            clock(f"restore_{table}", restore, opened, [r for r in records if r[1] == table])
        del records
        found = clock("scan", scan, opened, now, metrics)
        clock("scan_again", scan, opened, now, {})
        for store in opened.values():
            for db in store._dbs.values():
                db.close()
        opened = clock("reopen", stores, Path(data_dir))
        again = clock("scan_after_restart", scan, opened, now, {})
        sample_s, read_all_s = clock("full_scan", full_scan, opened, now, args.sample)
    print(json.dumps({"threads": len(dues), "index_entries": 2 * len(dues), "due": args.due, "found": found,
                      "found_after_restart": again, "visited": metrics["expiry_visited"],
                      "stale": metrics["expiry_stale"], **clock.figures,
                      "restart_s": round(clock.figures["reopen_s"] + clock.figures["scan_after_restart_s"], 3),
                      "full_scan_sample": args.sample, "full_scan_sample_s": round(sample_s, 2),
                      "full_scan_s_scaled": round(sample_s * len(dues) / args.sample, 1),
                      "read_all_raw_s": round(read_all_s, 2)}))


if __name__ == "__main__":
    main()
