"""The views read relations over a range (sink/metrics.py `during`: segments by start, each fact's
latest version) instead of FINAL over the tenant: on segments that outlive the lookback
(tests/fixtures/views/long_spans.json) every metric over every range is what the whole relation
gives, and facts written twice — replayed, open copies after closed ones — change no view."""
from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sink.metrics import DEFAULTS, MESSAGES, METRICS, RELATIONS, RESPONSE_COLUMNS, bucket, metric_sql, responses_of
from sink.report_params import bind
from sink.views import run, views
from tests.sink.test_metrics import SCENARIOS, phases, write

pytestmark = pytest.mark.clickhouse
LONG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "views" / "long_spans.json").read_text())
FACTS = {"long_spans": LONG, "transfer": SCENARIOS["transfer"], "async_replies": SCENARIOS["async_replies"]}
RANGED = ("visits", "alerts", "participations", "statuses", "messages", "responses", "concurrency")
START = datetime(2026, 11, 24, tzinfo=timezone.utc)
# The days the long spans cross, a window inside one, and all of them.
RANGES = [(START + timedelta(days=d), START + timedelta(days=d + 1)) for d in (2, 5, 6, 7, 8, 9, 11)] + [
    (datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc), datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)),
    (START, START + timedelta(days=13))]


def reversed_(written: list[list[tuple[str, dict]]]) -> list[list[tuple[str, dict]]]:
    """The same rows in reverse: the last phase first (closed copies before open ones), each reversed."""
    return [phase[::-1] for phase in written[::-1]]


@pytest.fixture(scope="module")
def tenants(clickhouse_store) -> dict[str, tuple[str, str]]:
    """Each fixture under two tenants: written once, and written twice (the replay in reverse order)."""
    out = {}
    for name, facts in FACTS.items():
        once, twice = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
        write(clickhouse_store, phases(once, facts))
        write(clickhouse_store, phases(twice, facts))
        write(clickhouse_store, reversed_(phases(twice, facts)))
        out[name] = (once, twice)
    return out


FROM_, TO_ = "{from:DateTime64(3, 'UTC')}", "{to:DateTime64(3, 'UTC')}"


def _nth(i: int) -> tuple[str, str]:
    return f"{{from_{i}:DateTime64(3, 'UTC')}}", f"{{to_{i}:DateTime64(3, 'UTC')}}"


def ranged(name: str) -> str:
    """`metric_sql(name)` over each of RANGES (the i-th bound as from_i / to_i), in one query: r, interval_start, value."""
    parts = [f"SELECT {i} AS r, interval_start, value FROM ({metric_sql(name).replace(FROM_, _nth(i)[0]).replace(TO_, _nth(i)[1])})"
             for i in range(len(RANGES))]
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY r, interval_start"


def whole(name: str) -> str:
    """The metric over the whole relation (FINAL over the tenant), over each of RANGES: what `during` must equal."""
    m = METRICS[name]
    lows, highs = (", ".join(_nth(i)[k] for i in range(len(RANGES))) for k in (0, 1))
    inside = f"arrayFilter(i -> ifNull({m.at} >= [{lows}][i] AND {m.at} < [{highs}][i], 0), range(1, {len(RANGES) + 1}))"
    return (f"SELECT r - 1 AS r, {bucket(m.at)} AS interval_start, {m.expr} AS value FROM ({RELATIONS[m.relation]})\n"
            f"ARRAY JOIN {inside} AS r GROUP BY r, interval_start ORDER BY r, interval_start")


def values(store, sql: str, params: dict) -> list[tuple]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in store.query(sql, params).result_rows]


def per_range(store, sql: str, params: dict) -> list[list[tuple]]:
    """(interval_start, value) per range, in the order of RANGES."""
    out = [[] for _ in RANGES]
    for r, start, value in store.query(sql, params).result_rows:
        out[r].append((start, round(value, 6) if isinstance(value, float) else value))
    return out


@pytest.mark.parametrize("name", [n for n, m in METRICS.items() if m.relation in RANGED])
def test_a_metric_over_a_range_is_the_whole_relations(clickhouse_store, tenants, name):
    bounds = {f"{k}_{i}": v for i, (lo, hi) in enumerate(RANGES) for k, v in (("from", lo), ("to", hi))}
    for fixture in ("long_spans", "transfer", "async_replies"):
        params = DEFAULTS | bounds | {"tenant": tenants[fixture][0], "tz": "UTC", "minutes": 60}
        got, want = per_range(clickhouse_store, ranged(name), params), per_range(clickhouse_store, whole(name), params)
        for (lo, hi), a, b in zip(RANGES, got, want):
            assert a == b, (fixture, lo, hi)


def random_messages(seed: int, conversations: int = 40) -> list[dict]:
    """Fixture messages of conversations where customers, agents (a transfer: another agent) and the
    system write in any order, some at the same second, some days apart."""
    rng = random.Random(seed)
    out = []
    for c in range(conversations):
        when = START + timedelta(hours=rng.randrange(200))
        for i in range(rng.randrange(1, 14)):
            when += timedelta(seconds=rng.choice((0, 1, 30, 600, 86400 * 2)))
            kind = rng.choice(("inbound", "inbound", "agent", "agent", "system"))
            out.append({"id": f"r{c}-{i}", "conv": f"rc{c}", "at": when.strftime("%Y-%m-%d %H:%M:%S"),
                        "dir": "inbound" if kind == "inbound" else "outbound",
                        "agent": rng.choice(("a", "a", "b")) if kind == "agent" else None})
    return out


def test_the_processors_responses_are_the_dictionarys_definition(clickhouse_store, tenants):
    # response_facts come from the conversation processor (streams/conversations/responses.py, as the
    # fixtures' loader applies it); sink.metrics.responses_of is the definition in SQL over the messages.
    extra = f"t-{uuid.uuid4().hex[:10]}"
    write(clickhouse_store, phases(extra, {"messages": random_messages(7)}))
    columns = ", ".join(RESPONSE_COLUMNS)
    for tenant in [extra] + [once for once, _ in tenants.values()]:
        got = clickhouse_store.query(f"SELECT {columns} FROM response_facts FINAL WHERE tenant_id = {{tenant:String}} "
                                     "ORDER BY at, message_id", {"tenant": tenant}).result_rows
        want = clickhouse_store.query(f"SELECT {columns} FROM ({responses_of(MESSAGES)}) ORDER BY at, message_id",
                                      {"tenant": tenant}).result_rows
        assert [tuple(map(str, r)) for r in got] == [tuple(map(str, r)) for r in want], tenant
        assert got or tenant != extra


def test_the_long_spans_are_counted_where_they_end(clickhouse_store, tenants):
    # The wrap-up that ends on 5 December completes A's two-day participation there (handle 4 days 2 h).
    params = DEFAULTS | {"tenant": tenants["long_spans"][0], "tz": "UTC", "minutes": 1440,
                         "from": datetime(2026, 12, 5, tzinfo=timezone.utc), "to": datetime(2026, 12, 6, tzinfo=timezone.utc)}
    assert [v for _, v in values(clickhouse_store, metric_sql("handle_s"), params)] == [float(2 * (2 * 86400 + 3600))]


def given(name: str, lo: datetime, hi: datetime) -> dict[str, list[str]]:
    if name == "interaction":
        return {"conversation": ["l1"]}
    if name == "my_queues_activity":
        return {"now": [hi.isoformat()]}
    return {"from": [lo.isoformat()], "to": [hi.isoformat()], "granularity": ["60m"]}


@pytest.mark.parametrize("name", sorted(views()))
def test_facts_written_twice_change_no_view(clickhouse_store, tenants, name):
    v = views()[name]
    for fixture, (once, twice) in tenants.items():
        for lo, hi in (RANGES[3], RANGES[-1]):
            a = run(clickhouse_store, v, bind(v, once, given(name, lo, hi)))
            b = run(clickhouse_store, v, bind(v, twice, given(name, lo, hi)))
            assert a == b, (fixture, lo)
