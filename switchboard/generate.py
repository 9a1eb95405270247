"""`switchboard generate`: a realistic history of interactions written straight into ClickHouse.

Demos and the reports' performance check need weeks of facts: queue visits, offers, agent
participations with wrap-ups, transfers, abandons, asynchronous replies days later, agents' status
intervals and the queues' configuration. Nothing is computed in Python: `sink/generate/plan.sql`
draws every conversation's story inside the engine (`FROM numbers(N)`, cityHash64 of the seed, so
a seed reproduces it) and one INSERT … SELECT per fact table reads it. Generated rows are marked by
their ids (`gen-…`), so replacing them never touches live facts, even in a live tenant. A marker
under the data dir (`generated/<tenant>.json`) records what was generated: the same arguments
again do nothing (docs/generate.md).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sink.generate import GENERATED, MODEL, STEPS, plan_table, statement
from sink.migrations import migrate
from switchboard.settings import load_settings

DAY_MS = 86_400_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line of `switchboard generate`."""
    parser = argparse.ArgumentParser(prog="switchboard generate", description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000, help="conversations to generate (%(default)s)")
    parser.add_argument("--days", type=int, default=14, help="days of history, ending at --until (%(default)s)")
    parser.add_argument("--tenant", default="demo-history", help="tenant of the generated facts (%(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same history (%(default)s)")
    parser.add_argument("--until", type=date.fromisoformat, default=None,
                        help="YYYY-MM-DD: the history ends at that UTC midnight (default: today's)")
    parser.add_argument("--optimize", action="store_true",
                        help="merge the written tables' parts now (OPTIMIZE … FINAL): FINAL reads are fast at once")
    args = parser.parse_args(argv)
    if args.interactions < 1 or args.days < 1 or args.seed < 0:
        parser.error("--interactions and --days must be positive, --seed not negative")
    return args


def parameters(args: argparse.Namespace) -> dict:
    """The bound parameters of every statement: tenant, seed, size, the period and the model."""
    until = args.until or datetime.now(timezone.utc).date()
    until_ms = int(datetime(until.year, until.month, until.day, tzinfo=timezone.utc).timestamp() * 1000)
    since_ms = until_ms - args.days * DAY_MS
    # Agents per queue and day shift (the night shift has a quarter): some 25-35 conversations a day each.
    per_shift = max(2, min(150, math.ceil(args.interactions / args.days / 300)))
    return {"tenant": args.tenant, "seed": args.seed, "n": args.interactions, "days": args.days,
            "since_ms": since_ms, "until_ms": until_ms, "middle_ms": since_ms + args.days // 2 * DAY_MS,
            "per_shift": per_shift, "plan": plan_table(args.tenant), "model": json.dumps(MODEL, separators=(",", ":"))}


def marker_path(data_dir: Path, tenant: str) -> Path:
    """Where the marker of a tenant's generated history lives."""
    return data_dir / "generated" / f"{tenant}.json"


def _generated(table: str, fields: str = "count()") -> str:
    column, prefix = GENERATED[table]
    return (f"SELECT {fields} FROM {table} WHERE tenant_id = {{tenant:String}} "
            f"AND startsWith({column}, '{prefix}')")


def counts(store, tenant: str) -> dict[str, int]:
    """Rows per generated table for the tenant (FINAL: what reports see)."""
    return {table: int(store.query(_generated(table).replace(" WHERE", " FINAL WHERE"),
                                   {"tenant": tenant}).result_rows[0][0]) for table in GENERATED}


def write(store, params: dict) -> dict[str, float]:
    """Delete the tenant's generated rows, then write the history step by step; seconds per step."""
    seconds, started = {}, time.monotonic()
    for table, (column, prefix) in GENERATED.items():   # mutations_sync: gone before the inserts begin
        store.command(f"ALTER TABLE {table} DELETE WHERE tenant_id = {{tenant:String}} "
                      f"AND startsWith({column}, '{prefix}') SETTINGS mutations_sync = 2", params)
    store.command("DROP TABLE IF EXISTS {plan:Identifier}", params)
    seconds["delete"] = round(time.monotonic() - started, 3)
    try:
        for step in STEPS:
            started = time.monotonic()
            store.command(statement(step), params)
            seconds[step] = round(time.monotonic() - started, 3)
    finally:
        store.command("DROP TABLE IF EXISTS {plan:Identifier}", params)
    return seconds


def optimize(store) -> float:
    """Merge each written table into one part: reads with FINAL then have nothing left to merge (a
    running engine merges in the background anyway, over minutes). Seconds taken."""
    started = time.monotonic()
    for table in GENERATED:
        store.command(f"OPTIMIZE TABLE {table} FINAL")
    return round(time.monotonic() - started, 3)


def generate(store, args: argparse.Namespace, data_dir: Path, target: str) -> dict:
    """Write the history unless the marker says it is there; a summary of what was done."""
    migrate(store)
    level = int(store.query("SELECT max(version) FROM schema_migrations FINAL").result_rows[0][0])
    params = parameters(args)
    want = {"interactions": args.interactions, "days": args.days, "seed": args.seed, "tenant": args.tenant,
            "until_ms": params["until_ms"], "migration": level, "target": target}
    marker = marker_path(data_dir, args.tenant)
    present = store.query(_generated("conversation_facts", "uniqExact(conversation_id)"), params).result_rows[0][0]
    if marker.exists() and json.loads(marker.read_text()) == want and present == args.interactions:
        merged = {"optimize_s": optimize(store)} if args.optimize else {}
        return {"generated": False, "reason": "the marker matches: nothing to do", **merged, **want}
    marker.unlink(missing_ok=True)   # a history half replaced is no history
    started = time.monotonic()
    steps = write(store, params)
    summary = {"generated": True, "seconds": round(time.monotonic() - started, 3), "steps": steps,
               "rows": counts(store, args.tenant), **want}
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(want, indent=2))
    if args.optimize:
        summary["optimize_s"] = optimize(store)
    return summary


def open_store(settings):
    """(store, what it is, close): the server; else the running sink's engine, through its ClickHouse
    interface (chdb lets one process open a data dir); else the embedded engine itself."""
    from sink.client import NoClickHouse, connect
    from sink.embedded import EmbeddedClickHouse
    from sink.store import EmbeddedStore, ServerStore
    from switchboard.settings import mask_url

    if settings.clickhouse_url:
        return ServerStore(connect(settings, send_receive_timeout=3600)), mask_url(settings.clickhouse_url), None
    path = settings.data_dir / "clickhouse"
    try:
        return ServerStore(connect(settings, send_receive_timeout=3600)), f"embedded:{path}", None
    except NoClickHouse:
        engine = EmbeddedClickHouse(path)
    return EmbeddedStore(engine), f"embedded:{path}", engine.close


def main(argv: list[str]) -> int:
    """Entry point of `switchboard generate`: prints what it did as one JSON line."""
    args = parse_args(argv)
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)   # no sink answering is no error here
    settings = load_settings()
    store, target, close = open_store(settings)
    try:
        print(json.dumps(generate(store, args, settings.data_dir, target)))
    finally:
        if close:
            close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
