"""The report views: one parameterized SQL file each (sink/views/<view>.sql), loaded, described, run.

A view file is ClickHouse SQL with bound parameters (`{name:Type}`, never spliced) and macros
that take the metric dictionary's SQL from sink/metrics.py, so no view restates a metric:
`{{relation:visits}}` (a fact relation, whole; `conversations` is this module's), `{{range:visits}}`
(over the facts touching [from, to), computed once per query; `range_today`, `range_week`: today so
far, the last 7 days), `{{now:waiting}}` and `{{open:visits}}` (the real-time metrics, the rows open
now), `{{metrics:a,b}}`
(the metrics' expressions as `a_`, `b_`: a metric named like a column must not shadow it inside
its own aggregate), `{{named:a,b}}` (`a_ AS a, …`), `{{bucket:col}}` (the local-clock interval of
`col`), `{{during:col}}` (`col` in [from, to)) and `{{where:relation}}` (the optional filters as
that relation can apply them: FILTER_SQL). docs/reports.md describes each view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .metrics import (FROM_, LOOKBACK, METRICS, NOW_METRICS, OPEN, RELATIONS, STARTED, bucket, direction, during,
                      serving, started, started_segments)

FOLDER = Path(__file__).with_name("views")
T = "{tenant:String}"
FILTERS = ("queue", "agent", "channel", "media_type", "wrapup_code", "direction")
# One row per conversation: its conversation_facts, completed by its segments (a conversation only
# routing wrote about has no channel or start there); over `ids`: of the conversations that may
# have started in [from, to) alone (metrics.STARTED, or a page of them), read by key and by time
# instead of whole.
# Their conversation_facts rows were all written from events at or after their start (a late
# message's platform time may lie a little before it: LOOKBACK), so they lie in the partitions of
# the range's first day and after (DDL 0067: a partition is a day of the rows' events). A filter on
# the partition itself, since FINAL keeps a condition on its columns until the rows are merged.
RECENT = f"_partition_id >= toString(toYYYYMMDD({FROM_} - {LOOKBACK}))"


def conversations(ids: str | None = None) -> str:
    """The conversations relation, over the tenant or over those of `ids` (metrics.STARTED or a
    query of some of them)."""
    facts = (f"SELECT * FROM conversation_facts FINAL WHERE tenant_id = {T} AND {RECENT} AND conversation_id IN ({ids})"
             if ids else f"SELECT * FROM conversation_facts FINAL WHERE tenant_id = {T}")
    # What the segments tell of their conversation is the same in every copy of a segment (its
    # conversation, channel, media, start, queue and agent), but for the wrap-up code, which only
    # the closed copy has: so every copy is read, none picked as the latest.
    segments = f"({started_segments(latest=False, ids=ids)})" if ids else f"segment_facts WHERE tenant_id = {T}"
    return f"""SELECT c.conversation_id AS conversation_id, c.customer_id AS customer_id,
       coalesce(c.channel, s.channel) AS channel, c.channel_account_id AS channel_account_id,
       coalesce(c.media_type, s.media, 'messaging') AS media_type, {direction()} AS direction,
       coalesce(c.started_at, c.first_inbound_at, s.first_at) AS started_at, c.closed_at AS closed_at,
       c.close_reason AS close_reason, c.interaction_ended_at AS interaction_ended_at,
       c.interaction_end_reason AS interaction_end_reason, coalesce(c.interaction_ended_at, c.closed_at) AS ended_at,
       coalesce(c.first_queue_id, s.first_queue) AS first_queue_id,
       arraySort(arrayDistinct(arrayConcat(c.queues, s.queues))) AS queues,
       arraySort(arrayDistinct(arrayConcat(c.agents, s.agents))) AS agents,
       arraySort(arrayDistinct(arrayConcat(c.wrapup_codes, s.wrapup_codes))) AS wrapup_codes,
       c.language AS language, c.entry_point_id AS entry_point_id, c.campaign_id AS campaign_id
FROM ({facts}) AS c
LEFT JOIN (SELECT conversation_id, CAST(any(channel) AS Nullable(String)) AS channel,
                  CAST(anyIf(media, media IS NOT NULL) AS Nullable(String)) AS media,
                  CAST(min(started_at) AS Nullable(DateTime64(3, 'UTC'))) AS first_at,
                  CAST(argMinIf(queue_id, started_at, segment_type = 'queue_wait') AS Nullable(String)) AS first_queue,
                  groupUniqArrayIf(assumeNotNull(queue_id), queue_id IS NOT NULL) AS queues,
                  groupUniqArrayIf(assumeNotNull(agent_id), agent_id IS NOT NULL) AS agents,
                  groupUniqArrayIf(assumeNotNull(wrapup_code), wrapup_code IS NOT NULL) AS wrapup_codes
           FROM {segments} GROUP BY conversation_id) AS s
       ON s.conversation_id = c.conversation_id"""


CONVERSATIONS = conversations()
ALL_RELATIONS = RELATIONS | {"conversations": CONVERSATIONS}
GRANULARITY = {"15m": 15, "30m": 30, "60m": 60, "day": 1440}


def _param(name: str) -> str:
    return f"{{{name}:Array(String)}}"


def _segments(condition: str) -> str:
    """The conversations that had a segment matching `condition`."""
    return f"conversation_id IN (SELECT conversation_id FROM segment_facts FINAL WHERE tenant_id = {T} AND {condition})"


# A filter on a relation's own column where it has one, else on its conversation (a queue visit
# filtered by agent: the visits of conversations that agent took part in). Statuses and concurrency
# have no conversation: only the agent filter applies to them.
OWN = {"queue": "queue_id IN {p}", "agent": "agent_id IN {p}", "channel": "channel IN {p}",
       "media_type": "media IN {p}", "wrapup_code": "wrapup_code IN {p}"}
BY_CONVERSATION = {"queue": _segments("queue_id IN {p}"), "agent": _segments("agent_id IN {p}"),
                   "channel": _segments("channel IN {p}"),
                   "media_type": _segments("ifNull(media, 'messaging') IN {p}"),
                   "wrapup_code": _segments("segment_type = 'wrapup' AND wrapup_code IN {p}"),
                   "direction": (f"if(conversation_id IN (SELECT conversation_id FROM ({CONVERSATIONS}) "
                                 "WHERE direction = 'outbound'), 'outbound', 'inbound') IN {p}")}
FILTER_SQL = {
    "visits": {f: OWN[f] for f in ("queue", "channel", "media_type")},
    "alerts": {f: OWN[f] for f in ("queue", "agent", "channel")},
    "participations": {f: OWN[f] for f in ("queue", "agent", "channel", "media_type", "wrapup_code")},
    "messages": {f: OWN[f] for f in ("agent", "channel")},
    "responses": {f: OWN[f] for f in ("agent", "channel")},
    "statuses": {"agent": OWN["agent"]}, "concurrency": {"agent": OWN["agent"]},
    "queues": {"queue": OWN["queue"]},   # a view's own rows, one per queue
    "conversations": {"queue": "hasAny(queues, {p})", "agent": "hasAny(agents, {p})", "channel": "channel IN {p}",
                      "media_type": "media_type IN {p}", "wrapup_code": "hasAny(wrapup_codes, {p})",
                      "direction": "direction IN {p}"},
}
NO_CONVERSATION = ("statuses", "concurrency", "queues")


def where(relation: str) -> str:
    """The optional filters as one condition on `relation` (an empty filter array matches all)."""
    own = FILTER_SQL[relation]
    parts = []
    for name in FILTERS:
        condition = own.get(name) or (None if relation in NO_CONVERSATION else BY_CONVERSATION[name])
        if condition:
            parts.append(f"/*{name}*/(empty({_param(name)}) OR {condition.replace('{p}', _param(name))})/**/")
    return " AND ".join(parts)


_FILTER = re.compile(r"/\*(\w+)\*/\(.*?\)/\*\*/", re.S)


def pruned(sql: str, parameters: dict) -> str:
    """`sql` without the conditions of filters not given: their parameter stays bound and the result
    is the same, but the engine need not build the sets of their subqueries."""
    return _FILTER.sub(lambda m: m.group(0) if parameters.get(m.group(1)) else "1", sql)


def _metrics(names: str) -> str:
    return ", ".join(f"{METRICS[n].expr} AS {n}_" for n in names.split(","))


def _when(role: str) -> tuple[str, str | None]:
    """A pivot role's condition and the time its interval is of: `col` (in [from, to)), `today.col`, `open`."""
    if role == "open":
        return OPEN, None
    kind, _, col = role.rpartition(".")
    return (MACROS["today"] if kind == "today" else MACROS["during"])(col), col


def pivot(spec: str) -> str:
    """`{{pivot:range:visits|queue_id|offered@started_at|answered,abandoned@ended_at}}`: the metrics of
    each role (`names@when`, _when) grouped by the keys, from ONE read of the relation: each row
    goes once into every role whose condition it meets, the metrics are computed per role, and each
    role keeps its own. The same figures as a FULL JOIN of a subquery per role, without computing
    the relation again for each (`interval_start` as a key: the interval of the role's time)."""
    relation, keys, *roles = spec.split("|")
    kind, name = relation.split(":")
    keys = keys.split(",")
    names = [(i, n) for i, r in enumerate(roles, 1) for n in r.split("@")[0].split(",")]
    whens = [_when(r.split("@")[1]) for r in roles]
    exprs = ", ".join(f"{NOW_METRICS[n][1] if n in NOW_METRICS else METRICS[n].expr} AS {n}_" for _, n in names)
    inner = [f"{bucket(f'[{chr(44).join(t for _, t in whens)}][role_]')} AS interval_start" if k == "interval_start" else k
             for k in keys]
    roles_of = f"arrayFilter(r -> [{', '.join(f'ifNull({c}, 0)' for c, _ in whens)}][r], range(1, {len(roles) + 1}))"
    return (f"(SELECT {', '.join(keys)}, {', '.join(f'anyIf({n}_, role_ = {i}) AS {n}_' for i, n in names)}\n"
            f" FROM (SELECT {', '.join(inner)}, role_, {exprs}\n"
            f"       FROM {kind}_{name} ARRAY JOIN {roles_of} AS role_ WHERE {where(name)}\n"
            f"       GROUP BY {', '.join(keys)}, role_)\n GROUP BY {', '.join(keys)})")


MACROS = {
    "relation": lambda name: ALL_RELATIONS[name],
    "metrics": _metrics,
    "now": lambda names: ", ".join(f"{NOW_METRICS[n][1]} AS {n}" for n in names.split(",")),
    "open": lambda _: OPEN,
    "named": lambda names: ", ".join(f"{n}_ AS {n}" for n in names.split(",")),
    "bucket": bucket,
    "during": lambda col: f"{col} >= {{from:DateTime64(3, 'UTC')}} AND {col} < {{to:DateTime64(3, 'UTC')}}",
    "today": lambda col: (f"{col} >= toStartOfDay({{now:DateTime64(3, 'UTC')}}, {{tz:String}}) "
                          f"AND {col} <= {{now:DateTime64(3, 'UTC')}}"),
    "where": where,
    "pivot": lambda spec: pivot(spec),
    "serving": lambda span: serving(*RANGES[f"range_{span}"]),
}
_MACRO = re.compile(r"\{\{(\w+):([\w,|@.:]+)\}\}")
_PARAM = re.compile(r"\{(\w+):([^{}]+)\}")


class BadParameter(ValueError):
    """A report parameter that cannot be used; its message names the fix."""


@dataclass(frozen=True)
class View:
    """One view: its name, its title (the file's first comment line) and its SQL, macros expanded."""

    name: str
    title: str
    sql: str

    @property
    def bound(self) -> dict[str, str]:
        """{parameter: ClickHouse type} the SQL binds."""
        return dict(_PARAM.findall(self.sql))

    @property
    def parameters(self) -> list[str]:
        """What a caller may give (tenant and the interval's minutes come from the token and granularity)."""
        bound = self.bound
        names = [p for p in ("from", "to", "now", "conversation", "limit") if p in bound]
        names += ["granularity"] if "minutes" in bound else []
        names += ["tz"]   # the viewer's clock: intervals, today, and from / to without an offset
        names += [p for p in (*FILTERS, "sl_abandons", "sl_short_abandons", "sl_flow_outs") if p in bound]
        return names


NOW = "{now:DateTime64(3, 'UTC')}"
# The ranges a view reads relations over (`{{range:x}}` …): [from, to), today so far (from the
# viewer's local midnight; `now` included) and the last 7 days.
RANGES = {"range": ("{from:DateTime64(3, 'UTC')}", "{to:DateTime64(3, 'UTC')}"),
          "range_today": (f"toStartOfDay({NOW}, {{tz:String}})", f"{NOW} + toIntervalMillisecond(1)"),
          "range_week": (f"{NOW} - INTERVAL 7 DAY", f"{NOW} + toIntervalMillisecond(1)"),
          "range_now": (NOW, f"{NOW} + toIntervalMillisecond(1)")}
_RANGED = re.compile(r"\{\{(range\w*|started|page_first|page_last):(\w+)\}\}")
_PIVOTED = re.compile(r"\{\{pivot:(range\w*):(\w+)\|")


def page(last: bool) -> str:
    """The ids of the `limit` conversations that started first (`last`: last) in [from, to) and pass
    the view's filters: a view that lists a page of them reads every other relation for those
    alone. Only the start and the filtered columns are read for all of them."""
    ids = (f"SELECT conversation_id FROM ({conversations(STARTED)}) WHERE {MACROS['during']('started_at')} "
           f"AND {where('conversations')} ORDER BY started_at{' DESC' if last else ''}, conversation_id "
           "LIMIT {limit:UInt32}")
    # a scalar: the engine computes it once however many of the view's relations read it
    return f"SELECT arrayJoin((SELECT groupArray(conversation_id) FROM ({ids})))"


def _over(kind: str, name: str) -> str:
    """Relation `name` over a range (`range…`), over the conversations started in [from, to)
    (`started`), or over the page of them a view lists (`page_first`, `page_last`: page())."""
    if kind == "started" or kind.startswith("page_"):
        ids = page(kind == "page_last") if kind.startswith("page_") else STARTED
        return conversations(ids) if name == "conversations" else started(name, ids)
    return during(name, *RANGES[kind])


def _ranged(sql: str) -> str:
    """`sql` after a WITH of each relation it reads over a range (`{{range:x}}`: `range_x`): computed
    once however often the view reads it where the session enables materialized CTEs
    (`enable_materialized_cte`: a readonly caller may set no such setting), inlined otherwise."""
    used = list(dict.fromkeys(sorted(_RANGED.findall(sql) + _PIVOTED.findall(sql), key=lambda m: sql.find(f"{m[0]}:{m[1]}"))))
    if not used:
        return sql
    head, body = re.match(r"((?:--[^\n]*\n)*)(.*)", sql, re.S).groups()
    ctes = ",\n".join(f"{r}_{n} AS MATERIALIZED ({_over(r, n)})" for r, n in used)
    body = _RANGED.sub(lambda m: f"{m.group(1)}_{m.group(2)}", body)
    return f"{head}WITH {ctes}\n{body}"


def expand(sql: str) -> str:
    """A view file's SQL with its macros replaced (the metrics' SQL may hold macros of its own: none)."""
    return _MACRO.sub(lambda m: MACROS[m.group(1)](m.group(2)), _ranged(sql))


@cache
def views() -> dict[str, View]:
    """Every view of sink/views/, by name."""
    found = {}
    for path in sorted(FOLDER.glob("*.sql")):
        text = path.read_text()
        title = text.splitlines()[0].removeprefix("--").strip()
        found[path.stem] = View(path.stem, title, expand(text))
    return found


def view(name: str) -> View:
    """The view called `name` (BadParameter naming the views otherwise)."""
    try:
        return views()[name]
    except KeyError:
        raise BadParameter(f"no view {name!r}: one of {', '.join(views())}") from None


def columns(client, v: View) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of the view's result, as the engine describes it."""
    from .report_params import defaults

    rows = client.query(f"DESCRIBE ({v.sql})", parameters=defaults(v, "t-describe")).result_rows
    return [(r[0], r[1]) for r in rows]


def run(client, v: View, parameters: dict) -> tuple[list[str], list[tuple]]:
    """The view's columns and rows for bound `parameters` (report_params.bind)."""
    result = client.query(pruned(v.sql, parameters), parameters=parameters)
    return list(result.column_names), list(result.result_rows)
