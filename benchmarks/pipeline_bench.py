"""The whole pipeline on one box (issue 17): signed webhooks in, message facts and agent offers out.

Starts a scratch broker (or uses `--bootstrap`), seeds the demo tenant with `--agents` agents on
every queue, and runs sink, worker, edge, deliver and the simulators (which play those agents:
on queue, accept offers, reply, wrap up) as child processes (benchmarks/pipeline_system.py). It
posts the simulated customers' webhooks (benchmarks/pipeline_load.py) at each fixed `--rates` for
`--seconds`, then `--saturation` requests as fast as `--concurrency` in flight allow, and measures:

- webhook -> edge 200, -> inbound-messages, -> conversation-inputs, -> `message_added` (produced:
  the record's timestamp; visible: read by benchmarks/pipeline_probe.py), -> routing request,
  -> agent offer: p50/p95/p99/max per phase, and the same per hop;
- at saturation: webhooks/s posted, `message_added`/s, and complete inbound message facts/s
  (ClickHouse `message_facts`: the inbound row joined with its conversation) over time;
- records written per inbound message on every catalogue topic (offsets: transaction markers
  included), and CPU-seconds per message of each role's process (/proc).

Prints a progress line every 2 s and a table at the end; the JSON goes to stdout and `--out`.
    .venv/bin/python -m benchmarks.pipeline_bench [--rates 100,500,1000] [--seconds 20] [--saturation 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import pipeline_plots
from benchmarks.pipeline_load import Customers, Sent
from benchmarks.pipeline_probe import Probe
from benchmarks.pipeline_system import System, busy_seconds, cpu_seconds
from schemas import catalogue

TENANT = "acme"
DRAIN_S = 30.0       # longest wait for a phase's last message_added after its last post
FACTS_AFTER_S = 15.0  # and for the sink's last facts after that
FACTS_SQL = """SELECT count() FROM (SELECT message_id, any(direction) AS d, any(conversation_id) AS c,
  min(received_at) AS r FROM message_facts WHERE tenant_id = %(t)s GROUP BY message_id)
  WHERE d = 'inbound' AND c IS NOT NULL AND r >= fromUnixTimestamp64Milli(%(since)s)"""


def percentiles(values: list[float]) -> dict:
    """n, p50, p95, p99, max of `values` (ms), rounded."""
    if not values:
        return {"n": 0}
    v = sorted(values)
    at = lambda q: v[min(len(v) - 1, int(len(v) * q))]   # noqa: E731
    return {"n": len(v), "p50": round(at(0.5), 1), "p95": round(at(0.95), 1), "p99": round(at(0.99), 1),
            "max": round(v[-1], 1)}


def latencies(seen: list[tuple], sent: Sent) -> dict:
    """Per phase: webhook -> each hop, and hop -> next hop, in ms (see module docstring)."""
    first: dict[tuple, tuple] = {}
    for hop, ident, at, ts, conversation in seen:
        first.setdefault((hop, ident), (at, ts, conversation))
    posted = sent.posted_at
    out = {k: [] for k in ("edge_ack", "inbound", "sequenced", "added_produced", "added", "requested", "offered")}
    hops = {k: [] for k in ("edge_to_inbound", "inbound_to_sequenced", "sequenced_to_added_produced",
                            "added_produced_to_visible", "requested_to_offered")}
    out["edge_ack"] = list(sent.acked_ms)
    added_by_conversation: dict[str, list] = {}
    for (hop, ident), (at, ts, conversation) in first.items():
        if hop != "added" or ident not in posted:
            continue
        t0 = posted[ident]
        out["added"].append((at - t0) * 1000)
        out["added_produced"].append((ts - t0) * 1000)
        added_by_conversation.setdefault(conversation, []).append((ts, at, t0))
        inbound, sequenced = first.get(("inbound", ident)), first.get(("sequenced", ident))
        if inbound and sequenced:
            out["inbound"].append((inbound[0] - t0) * 1000)
            out["sequenced"].append((sequenced[0] - t0) * 1000)
            hops["edge_to_inbound"].append((inbound[0] - t0) * 1000)
            hops["inbound_to_sequenced"].append((sequenced[0] - inbound[0]) * 1000)
            hops["sequenced_to_added_produced"].append((ts - sequenced[0]) * 1000)
            hops["added_produced_to_visible"].append((at - ts) * 1000)
    requests = sorted((at, ts, conversation) for (hop, _), (at, ts, conversation) in first.items() if hop == "requested")
    triggered: dict[str, list] = {}
    for at, ts, conversation in requests:   # the request's message: its conversation's last added before it
        before = [a for a in added_by_conversation.get(conversation, ()) if a[0] <= ts + 0.001]
        if before:
            t0 = max(before)[2]
            out["requested"].append((at - t0) * 1000)
            triggered.setdefault(conversation, []).append((at, t0))
    for (hop, _), (at, _ts, conversation) in first.items():
        if hop == "offered":
            before = [r for r in triggered.get(conversation, ()) if r[0] <= at]
            if before:
                requested_at, t0 = max(before)
                out["offered"].append((at - t0) * 1000)
                hops["requested_to_offered"].append((at - requested_at) * 1000)
    return {"webhook_to": {k: percentiles(v) for k, v in out.items()},
            "hop": {k: percentiles(v) for k, v in hops.items()},
            "cdf": {k: cdf(out[k]) for k in ("added", "offered")}}


def cdf(values: list[float], points: int = 100) -> list[float]:
    """The latency at each percent 0..100 of `values` (ms): what the CDF plot draws."""
    v = sorted(values)
    return [round(v[min(len(v) - 1, len(v) * q // points)], 1) for q in range(points + 1)] if v else []


def ceiling(phases: list[dict], baselines: list[dict]) -> dict:
    """The pipeline's figures as a ratio to each baseline's: throughput at saturation (facts/s and
    message_added/s over records/s) and p99 latency at 100 and 500/s (the baseline's over ours)."""
    by = {p["phase"]: p for p in phases}
    out = {}
    for b in baselines:
        ratios = {}
        if "saturation" in by and b.get("records_per_s"):
            sat = by["saturation"]
            facts = sat.get("facts", {}).get("facts_per_s")
            ratios["facts_per_s"] = None if facts is None else round(facts / b["records_per_s"], 3)
            ratios["message_added_per_s"] = round(sat["message_added_per_s"] / b["records_per_s"], 3)
        for rate in (100, 500):
            ours = by.get(f"{rate}/s", {}).get("latency_ms", {}).get("webhook_to", {}).get("added", {}).get("p99")
            theirs = b.get(f"latency_ms_{rate}", {}).get("p99")
            if ours and theirs:
                ratios[f"p99_at_{rate}"] = round(theirs / ours, 3)
        out[b["kind"]] = ratios
    return out


def offsets(bootstrap: str) -> dict[str, int]:
    """The end offset summed over partitions, per catalogue topic."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-offsets"})
    try:
        present = c.list_topics(timeout=10).topics
        return {t.name: sum(c.get_watermark_offsets(TopicPartition(t.name, p), timeout=10)[1]
                            for p in present[t.name].partitions) for t in catalogue().values() if t.name in present}
    finally:
        c.close()


def record_bytes(bootstrap: str, last: int = 20) -> dict[str, int]:
    """The mean value size (bytes, uncompressed) of the last `last` records of each partition, per
    catalogue topic written to."""
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-sizes", "enable.auto.commit": False,
                  "isolation.level": "read_uncommitted"})
    try:
        present, wanted, ends = c.list_topics(timeout=10).topics, [], {}
        for t in catalogue().values():
            for p in present.get(t.name).partitions if t.name in present else ():
                low, high = c.get_watermark_offsets(TopicPartition(t.name, p), timeout=10)
                if high > low:
                    wanted.append(TopicPartition(t.name, p, max(low, high - last)))
                    ends[(t.name, p)] = high
        c.assign(wanted)
        sizes: dict[str, list[int]] = {}
        deadline = time.monotonic() + 20
        while ends and time.monotonic() < deadline:
            for msg in c.consume(1000, 0.5):
                if msg.error() is None:
                    sizes.setdefault(msg.topic(), []).append(len(msg.value() or b""))
                    if msg.offset() + 1 >= ends.get((msg.topic(), msg.partition()), 0):
                        ends.pop((msg.topic(), msg.partition()), None)
        return {t: sum(v) // len(v) for t, v in sorted(sizes.items())}
    finally:
        c.close()


class Bench:
    """One run: the system, the probe, the customers, and what each phase measured."""

    def __init__(self, args, tmp: Path):
        self.args, self.system = args, System(tmp, args.bootstrap, args.agents, args.out.parent / "logs")
        self.phase, self.started, self.last = "start", time.monotonic(), (0.0, 0)

    def progress(self, sent: Sent | None = None, force: bool = False) -> None:
        """One line every 2 s: phase, elapsed, webhooks posted and answered, message_added seen, lag."""
        now = time.monotonic()
        if not force and now - self.last[0] < 2:
            return
        added = self.probe.added
        rate = (added - self.last[1]) / max(now - self.last[0], 1e-3)
        posted = f"posted {sent.requests} ({sent.messages} msgs) answered {sum(sent.statuses.values())} " if sent else ""
        print(f"[{now - self.started:6.1f} s] {self.phase}: {posted}message_added {added} ({rate:.0f}/s) "
              f"lag {max(0, self.expected - added)}", file=sys.stderr, flush=True)
        self.last = (now, added)

    async def drain(self, expected: int) -> float:
        """Wait until `expected` message_added are seen, or nothing new came for 5 s (at most DRAIN_S)."""
        deadline, still, last = time.monotonic() + DRAIN_S, time.monotonic(), self.probe.added
        while self.probe.added < expected and time.monotonic() < deadline and time.monotonic() - still < 5:
            await asyncio.sleep(0.1)
            if self.probe.added != last:
                still, last = time.monotonic(), self.probe.added
            self.progress()
        return time.monotonic()

    async def run_phase(self, name: str, rate: float | None, count: int) -> dict:
        """Post `count` requests at `rate` (None: saturation) and wait for their message_added."""
        self.phase, requests, self.drained_at = name, self.customers.make(count), None
        messages = sum(r[3] for r in requests)
        self.expected = self.probe.added + messages
        pids = self.system.pids() | {"bench": os.getpid(), "probe": self.probe.proc.pid}
        cpu0 = {role: cpu_seconds(pid) for role, pid in pids.items()} | {"machine": busy_seconds()}
        since_ms, began, added0 = int(time.time() * 1000), time.monotonic(), self.probe.added
        facts = asyncio.ensure_future(self.sample_facts(since_ms, began)) if rate is None else None
        url = lambda hook: f"{self.system.edge_url}/webhooks/{hook.channel}/{hook.account_id}"   # noqa: E731
        sent = await self.customers.post(url, requests, rate, self.args.concurrency, self.progress)
        posted = time.monotonic()
        drained = self.drained_at = await self.drain(self.expected)
        self.progress(sent, force=True)
        cpu = {role: cpu_seconds(pid) - cpu0[role] for role, pid in pids.items()}
        cpu["others"] = busy_seconds() - cpu0["machine"] - sum(cpu.values())   # not ours: a shared machine
        result = {"phase": name, "rate": rate, "requests": sent.requests, "messages": messages,
                  "redeliveries": sent.redeliveries, "statuses": sent.statuses,
                  "post_seconds": round(posted - began, 2), "webhooks_per_s": round(sent.requests / (posted - began)),
                  "message_added": self.probe.added - added0,
                  # behind: the phase's messages were not all added within DRAIN_S of its last post, so the
                  # next phase starts on its backlog and its figures measure that backlog too
                  "caught_up": self.probe.added >= self.expected,
                  "message_added_per_s": round((self.probe.added - added0) / (drained - began)),
                  "cpu_ms_per_message": {r: round(1000 * s / max(messages, 1), 3) for r, s in cpu.items()},
                  "cpu_share": {r: round(s / (drained - began), 2) for r, s in cpu.items()}}
        if facts is not None:
            result["facts"] = await facts
            if not result["caught_up"]:   # facts of a backlog still draining: a count, not a rate
                result["facts"]["facts_per_s"] = None
        self.sent[name] = sent
        return result

    def baselines(self, size: int) -> list[dict]:
        """The bare faust agent and the bare confluent-kafka loop on this broker, the roles stopped."""
        from benchmarks.pipeline_baselines import measure

        self.system.stop_roles()
        found = []
        for kind in ("faust", "loop"):
            self.phase = f"baseline {kind}"
            print(f"[{time.monotonic() - self.started:6.1f} s] {self.phase} ({size} B records)", file=sys.stderr, flush=True)
            found.append(measure(kind, self.system.bootstrap, size, self.args.baseline_records, self.system.tmp))
        return found

    async def sample_facts(self, since_ms: int, began: float) -> dict:
        """Complete inbound message facts over time, until their count stops growing."""
        from sink.client import connect

        client, samples, still = connect(self.system.settings()), [], 0
        while not (self.drained_at and (still >= 2 or time.monotonic() - self.drained_at > FACTS_AFTER_S)):
            await asyncio.sleep(2)
            n = (await asyncio.to_thread(client.query, FACTS_SQL, {"t": TENANT, "since": since_ms})).result_rows[0][0]
            still = still + 1 if samples and n == samples[-1][1] and n > 0 else 0
            samples.append((round(time.monotonic() - began, 1), n))
        final = samples[-1][1] if samples else 0
        t95 = next((t for t, n in samples if n >= 0.95 * final), None) if final else None
        return {"complete_facts": final, "facts_per_s": round(0.95 * final / t95) if t95 else 0,
                "over_time": samples}

    async def main(self) -> dict:
        """Every phase, then the records per message, as one JSON value."""
        a = self.args
        self.system.start()
        self.probe, self.sent, self.expected = Probe(self.system.bootstrap), {}, 0
        self.customers = Customers(self.system.env["SWITCHBOARD_ACCOUNTS_FILE"], self.system.edge_url,
                                   customers=a.customers, seed=a.seed)
        before = offsets(self.system.bootstrap)
        phases = [await self.run_phase("warm-up", 50, 250)]
        for rate in a.rates:
            phases.append(await self.run_phase(f"{rate}/s", rate, int(rate * a.seconds)))
        if a.saturation:
            phases.append(await self.run_phase("saturation", None, a.saturation))
        size = self.probe.inbound_bytes
        seen = self.probe.stop()
        after, sizes = offsets(self.system.bootstrap), record_bytes(self.system.bootstrap)
        for phase in phases:
            phase["latency_ms"] = latencies(seen, self.sent[phase["phase"]])
        inbound = sum(p["messages"] for p in phases)
        written = {t: after[t] - before.get(t, 0) for t in after if after[t] - before.get(t, 0)}
        baselines = self.baselines(size) if a.baselines else []
        return {"system": {"agents": a.agents, "customers": a.customers, "broker": "scratch" if a.bootstrap is None else a.bootstrap},
                "phases": phases, "baselines": baselines, "ceiling": ceiling(phases, baselines),
                "inbound_messages": inbound,
                "records_per_inbound_message": round(sum(written.values()) / max(inbound, 1), 2),
                "records_per_topic": {t: round(n / max(inbound, 1), 3) for t, n in sorted(written.items())},
                "record_bytes_per_topic": sizes}


def _use_uvloop() -> None:
    """The load generator under uvloop when installed (the edge runs under it too): less of a core."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def table(result: dict) -> str:
    """The human summary: one line per phase."""
    lines = [f"{'phase':>11} {'webhooks/s':>10} {'added/s':>8} {'facts/s':>8}  webhook->message_added p50/p95/p99/max ms"
             "   ->offer p50/p99 ms"]
    for p in result["phases"]:
        added, offer = p["latency_ms"]["webhook_to"]["added"], p["latency_ms"]["webhook_to"]["offered"]
        facts = p.get("facts", {}).get("facts_per_s", "-")
        lines.append(f"{p['phase']:>11} {p['webhooks_per_s']:>10} {p['message_added_per_s']:>8} "
                     f"{'behind' if facts is None else facts:>8}  "
                     f"{added.get('p50')}/{added.get('p95')}/{added.get('p99')}/{added.get('max')}"
                     f"   {offer.get('p50')}/{offer.get('p99')}")
    behind = [p["phase"] for p in result["phases"] if not p.get("caught_up", True)]
    if behind:
        lines.append(f"behind (not all added within {DRAIN_S:g} s of the last post; the next phase began on the backlog): "
                     + ", ".join(behind))
    hops = next((p["latency_ms"]["hop"] for p in result["phases"] if p["rate"] == 100), None)
    if hops:
        lines.append("hops at 100/s, p50/p99 ms: " + ", ".join(f"{k} {v.get('p50')}/{v.get('p99')}" for k, v in hops.items()))
    for b in result["baselines"]:
        lines.append(f"baseline {b['kind']}: {b['records_per_s']} records/s, p50/p99 ms at 100/s "
                     f"{b['latency_ms_100'].get('p50')}/{b['latency_ms_100'].get('p99')}, at 500/s "
                     f"{b['latency_ms_500'].get('p50')}/{b['latency_ms_500'].get('p99')}; ours as a ratio: "
                     f"{result['ceiling'].get(b['kind'])}")
    lines.append(f"records per inbound message: {result['records_per_inbound_message']}")
    return "\n".join(lines)


def main() -> None:
    """Parse, run, print the table (stderr) and the JSON (stdout and --out)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="a running broker (default: a scratch broker of this run)")
    parser.add_argument("--rates", type=lambda s: [int(r) for r in s.split(",") if r], default=[100, 500, 1000])
    parser.add_argument("--seconds", type=float, default=20, help="seconds of each fixed rate")
    parser.add_argument("--saturation", type=int, default=20000, help="requests of the saturation phase (0: none)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the bare faust agent and confluent-kafka loop too (default on)")
    parser.add_argument("--baseline-records", type=int, default=30000, help="records of each baseline's throughput")
    parser.add_argument("--out", type=Path, default=Path(".data/bench/pipeline.json"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # stop the roles and the broker on the way out
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            _use_uvloop()
            result = asyncio.run(bench.main())
        finally:
            bench.system.stop()
    print(table(result), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    for written in pipeline_plots.write(result, args.out):
        print(f"plot: {written}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
