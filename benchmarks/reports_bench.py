"""The report views' latency on a generated history (not a test): p50 / p99 of each view, quiet and
while facts keep arriving, in the embedded engine, as JSON.

The history is `switchboard generate`'s (sink/generate: queue visits, offers, participations,
wrap-ups, transfers, abandons, async replies, statuses), written once into `--data-dir` (its
marker makes a re-run with the same arguments reuse it). Each view is asked what a supervisor asks:
the last day of the history (`--spans day`; `week` and `period`, the whole history, on request),
the floor an hour before its end, one conversation's timeline. The issue's target is <= 0.5 s per
view on 1 M interactions (~10-15 M facts) while webhooks load the machine; `loaded` repeats each
view while a thread writes what a webhook load leaves in the facts (a segment opened and closed,
two messages, per conversation, in batches like the sink's) through the same engine. Printed,
never asserted.

Run: `.venv/bin/python -m benchmarks.reports_bench [--interactions 1000000] [--days 30] [--runs 9]
[--spans day,week] [--until 2026-03-01] [--data-dir .data/bench-reports] [--materialized-cte]`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sink.embedded import EmbeddedClickHouse
from sink.report_params import bind
from sink.generate import DERIVED
from sink.rows import conversation_row, message_row, rows_of
from sink.rows_messages import response_row, timeline_row
from sink.store import EmbeddedStore
from sink.views import run, views
from switchboard import generate

TENANT = "bench-reports"
SPANS = {"day": timedelta(days=1), "week": timedelta(days=7)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--spans", default="day", help="comma-separated: day, week, period")
    parser.add_argument("--until", default="2026-03-01", help="the history's end (a UTC midnight)")
    parser.add_argument("--batch", type=int, default=100, help="conversations per batch of the load")
    parser.add_argument("--data-dir", type=Path, default=Path(".data/bench-reports"))
    parser.add_argument("--materialized-cte", action="store_true",
                        help="set the session's enable_materialized_cte (which the API, the CLI's readonly user and "
                             "Grafana do not: each view's ranged relations are inlined, each read once)")
    return parser.parse_args()


def given(name: str, period: tuple[datetime, datetime], span: str, conversation: str) -> dict[str, list[str]]:
    """The parameters of one view: the span ending at the history's end (the floor: its last hour)."""
    if name == "interaction":
        return {"conversation": [conversation]}
    if name == "my_queues_activity":
        return {"now": [(period[1] - timedelta(hours=1)).isoformat()]}
    start = period[0] if span == "period" else period[1] - SPANS[span]
    return {"from": [start.isoformat()], "to": [period[1].isoformat()], "granularity": ["60m"]}


def timed(store, view, params: dict, runs: int) -> dict:
    seconds, rows = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = len(run(store, view, params)[1])
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return {"p50_s": round(statistics.median(seconds), 3),
            "p99_s": round(seconds[min(len(seconds) - 1, int(0.99 * len(seconds)))], 3), "rows": rows}


def batch(n: int, base: int, at: datetime) -> list[tuple[str, dict]]:
    """What `n` webhook conversations leave in the facts: the conversation, a visit opened then answered,
    a message each way (message_facts and message_timeline, and the agent's response, as the sink writes them)."""
    out = []
    for i in range(base, base + n):
        conv, ended = f"load-{i}", at + timedelta(seconds=30)
        visit = {"tenant_id": TENANT, "fact_id": f"seg:{conv}:queue_wait:1", "conversation_id": conv, "customer_id": None,
                 "channel": "whatsapp", "segment_type": "queue_wait", "queue_id": "general", "agent_id": None,
                 "started_at": at, "ended_at": None, "outcome": None, "media": "messaging", "service_level_seconds": 60,
                 "short_abandon_seconds": 10}
        out += rows_of("segment-fact", visit) + rows_of("segment-fact", visit | {"ended_at": ended, "outcome": "answered"})
        out += [conversation_row(TENANT, conv, at, channel="whatsapp", started_at=at, first_inbound_at=at),
                message_row(TENANT, f"{conv}-in", conversation_id=conv, channel="whatsapp", direction="inbound",
                            sender_kind="customer", occurred_at=at),
                message_row(TENANT, f"{conv}-out", conversation_id=conv, channel="whatsapp", direction="outbound",
                            sender_kind="agent", agent_id="load-agent", occurred_at=ended),
                timeline_row(TENANT, f"{conv}-in", conv, at, channel="whatsapp", direction="inbound"),
                timeline_row(TENANT, f"{conv}-out", conv, ended, channel="whatsapp", direction="outbound",
                             agent_id="load-agent"),
                response_row(TENANT, f"{conv}-out", conv, ended, {"responder": "agent", "agent_id": "load-agent",
                                                                   "answers_from": at, "first_of_conversation": True,
                                                                   "first_of_participation": True}, channel="whatsapp")]
    return out


def load(store, stop: threading.Event, size: int, at: datetime, written: list[int]) -> None:
    """Write batches until `stop`, one insert per table per batch (as the sink flushes)."""
    base = 0
    while not stop.is_set():
        by_table: dict[str, list[dict]] = {}
        for table, row in batch(size, base, at + timedelta(milliseconds=base)):
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            store.insert(table, rows)
            written[0] += len(rows)
        base += size
        stop.wait(0.05)


def main() -> None:
    args = parse_args()
    engine = EmbeddedClickHouse(args.data_dir / "clickhouse")
    store = EmbeddedStore(engine)
    if args.materialized_cte:   # what the views' WITH … AS MATERIALIZED would want from the session
        engine.run("SET enable_materialized_cte = 1")
    try:
        options = generate.parse_args(["--interactions", str(args.interactions), "--days", str(args.days),
                                       "--tenant", TENANT, "--until", args.until])
        made = generate.generate(store, options, args.data_dir, "bench")
        if made["generated"]:   # a month-old system has merged its parts: FINAL reads find them merged
            made["optimize_s"] = generate.optimize(store)
        params = generate.parameters(options)
        period = tuple(datetime.fromtimestamp(params[k] / 1000, timezone.utc) for k in ("since_ms", "until_ms"))
        facts = sum(n for table, n in generate.counts(store, TENANT).items() if table not in DERIVED)
        conversation = store.query(f"SELECT conversation_id FROM segment_facts WHERE tenant_id = '{TENANT}' "
                                   "AND segment_type = 'wrapup' ORDER BY fact_id LIMIT 1").result_rows[0][0]
        figures = {}
        for span in args.spans.split(","):
            for name, v in views().items():
                p = bind(v, TENANT, given(name, period, span, conversation))
                figures.setdefault(span, {})[name] = {"quiet": timed(store, v, p, args.runs)}
        stop, written = threading.Event(), [0]
        writer = threading.Thread(target=load, args=(store, stop, args.batch, period[1] - timedelta(hours=2), written))
        started = time.monotonic()
        writer.start()
        try:
            for span in args.spans.split(","):
                for name, v in views().items():
                    p = bind(v, TENANT, given(name, period, span, conversation))
                    figures[span][name]["loaded"] = timed(store, v, p, args.runs)
        finally:
            stop.set()
            writer.join()
        load_rate = round(written[0] / (time.monotonic() - started))
        print(json.dumps({"interactions": args.interactions, "days": args.days, "facts": facts,
                          "generated_s": made.get("seconds"), "optimize_s": made.get("optimize_s"), "runs": args.runs, "load_rows_per_s": load_rate,
                          "materialized_cte": args.materialized_cte,
                          "views": figures}))
    finally:
        engine.close()


if __name__ == "__main__":
    main()
