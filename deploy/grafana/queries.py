"""The panels' SQL for Grafana, built from the metric dictionary (sink/metrics.py).

The dictionary's queries bind parameters (`{tenant:String}` …); the ClickHouse datasource binds
none, so each becomes what Grafana and the plugin put in its place: a dashboard variable
(`${tenant}`, `${minutes}`, the SL switches), the dashboard's time zone (`${__timezone}`, which
is `utc` or an IANA name — ClickHouse only knows `UTC`), or one of the plugin's macros for the
time range (`$__fromTime_ms`, `$__toTime_ms`, DateTime64 like the facts). Filters by queue, agent
and channel are `$__conditionalAll(...)`: `1=1` when the variable is All.
"""
from __future__ import annotations

import re

from sink.metrics import DIMENSIONS, METRICS, NOW_METRICS, OPEN, RELATIONS, bucket, direction

TZ = "if('${__timezone}' = 'utc', 'UTC', '${__timezone}')"
FROM, TO = "$__fromTime_ms", "$__toTime_ms"
BOUND = {"{tenant:String}": "'${tenant}'", "{tz:String}": TZ, "{minutes:UInt32}": "${minutes}",
         "{from:DateTime64(3, 'UTC')}": FROM, "{to:DateTime64(3, 'UTC')}": TO,
         "{sl_abandons:UInt8}": "${sl_abandons}", "{sl_short_abandons:UInt8}": "${sl_short_abandons}",
         "{sl_flow_outs:UInt8}": "${sl_flow_outs}", "{now:DateTime64(3, 'UTC')}": "now64(3)"}
# Dimension column → the dashboard variable that filters it.
FILTERS = {"queue_id": "queue", "agent_id": "agent", "channel": "channel"}
LOCAL_MIDNIGHT = f"toStartOfDay(now64(3), {TZ})"


def grafana(sql: str) -> str:
    """`sql` with every bound parameter replaced by its Grafana variable or macro."""
    for bound, grafana_text in BOUND.items():
        sql = sql.replace(bound, grafana_text)
    left = re.findall(r"(?<!\$)\{\w+:[^{}]+\}", sql)
    if left:
        raise ValueError(f"no Grafana equivalent for {left}")
    return sql


# A customer's message has no agent: messages are filtered by agent through the conversations the
# agent took part in (else "messages in" would be empty whenever an agent is chosen).
BY_CONVERSATION = {("messages", "agent_id"): "conversation_id IN (SELECT conversation_id FROM segment_facts "
                                             "WHERE tenant_id = '${tenant}' AND agent_id IN (${agent:singlequote}))"}


def where(relation: str) -> str:
    """The filters of the dashboard variables that apply to `relation`'s rows."""
    return "".join(f"\n  AND $__conditionalAll({BY_CONVERSATION.get((relation, column), f'{column} IN (${{{var}:singlequote}})')}, ${var})"
                   for column, var in FILTERS.items() if column in DIMENSIONS[relation])


def series(name: str, by: tuple[str, ...] = ()) -> str:
    """One metric per interval of `${minutes}` on the viewer's clock (time series: time, *by, name)."""
    metric = METRICS[name]
    keys = ", ".join(("time", *by))
    # the range excludes NULL (an open segment's end): a time series' time column must not be Nullable
    return grafana(f"SELECT {bucket(f'assumeNotNull({metric.at})')} AS time, {''.join(c + ', ' for c in by)}{metric.expr} AS {name}\n"
                   f"FROM ({RELATIONS[metric.relation]})\n"
                   f"WHERE {metric.at} >= {FROM} AND {metric.at} < {TO}{where(metric.relation)}\n"
                   f"GROUP BY {keys} ORDER BY {keys}")


def summary(key: str, names: tuple[str, ...], start: str = FROM, end: str = TO, alias: str | None = None) -> str:
    """A table of metrics per `key` (a column or expression, named `alias`) over [start, end): each
    metric at its own time column, pivoted."""
    parts = []
    for name in names:
        metric = METRICS[name]
        parts.append(f"SELECT {key} AS key, '{name}' AS metric, CAST({metric.expr} AS Nullable(Float64)) AS value\n"
                     f"FROM ({RELATIONS[metric.relation]})\n"
                     f"WHERE {metric.at} >= {start} AND {metric.at} < {end} AND {key} IS NOT NULL"
                     f"{where(metric.relation)}\nGROUP BY key")
    columns = ", ".join(f"anyIf(value, metric = '{name}') AS {name}" for name in names)
    return grafana(f"SELECT key AS {alias or key}, {columns}\nFROM (\n" + "\nUNION ALL\n".join(parts) +
                   f"\n)\nGROUP BY key ORDER BY key")


def activity(by_queue: bool) -> str:
    """My Queues Activity per queue (or for all of them: `scope` 'all'): waiting now, longest wait,
    and today's offered, answered, abandoned and SL % (today: since the viewer's local midnight)."""
    key, name = ("queue_id", "queue_id") if by_queue else ("'all'", "scope")
    figures = ", ".join(f"{NOW_METRICS[n][1]} AS {n}" for n in ("waiting", "longest_wait_s"))
    now = f"""SELECT {key} AS {name}, {figures}
FROM ({RELATIONS['visits']}) WHERE {OPEN}{where('visits')} GROUP BY {name}"""
    today = summary(key, ("offered", "answered", "abandoned", "sl_pct"), LOCAL_MIDNIGHT, "now64(3) + 1", name)
    return grafana(f"SELECT {name}, ifNull(n.waiting, 0) AS waiting, ifNull(n.longest_wait_s, 0) AS longest_wait_s,\n"
                   f"       ifNull(t.offered, 0) AS offered_today, ifNull(t.answered, 0) AS answered_today,\n"
                   f"       ifNull(t.abandoned, 0) AS abandoned_today, t.sl_pct AS sl_pct_today\n"
                   f"FROM ({now}) AS n FULL OUTER JOIN ({today}) AS t USING ({name})\nORDER BY {name}")


def agents_now() -> str:
    """Agents on queue, idle (on queue, no open participation), interacting and not responding now."""
    busy = f"SELECT groupUniqArray(agent_id) FROM ({RELATIONS['participations']}) WHERE ended_at IS NULL"
    return grafana(f"""WITH ({busy}) AS busy
SELECT uniqExactIf(agent_id, routing_status = 'on_queue') AS on_queue,
       uniqExactIf(agent_id, routing_status = 'on_queue' AND NOT has(busy, agent_id)) AS idle,
       uniqExactIf(agent_id, routing_status = 'on_queue' AND has(busy, agent_id)) AS interacting,
       uniqExactIf(agent_id, routing_status = 'not_responding') AS not_responding
FROM ({RELATIONS['statuses']}) WHERE ended_at IS NULL{where('statuses')}""")


def waiting_over_time() -> str:
    """Waiting and longest wait per queue, sampled every `$__interval_s` over the range (at most 1500 points)."""
    step = "$__interval_s"
    points = (f"arrayMap(i -> toDateTime64((intDiv(toUnixTimestamp($__fromTime), {step}) + i) * {step}, 3, 'UTC'), "
              f"range(toUInt32(least(intDiv(toUnixTimestamp($__toTime) - toUnixTimestamp($__fromTime), {step}) + 1, 1500))))")
    waiting = "started_at <= t AND (ended_at IS NULL OR ended_at > t)"
    return grafana(f"""SELECT t AS time, queue_id, countIf({waiting}) AS waiting,
       max(if({waiting}, dateDiff('second', started_at, t), 0)) AS longest_wait_s
FROM ({RELATIONS['visits']})
ARRAY JOIN {points} AS t
WHERE started_at < {TO} AND (ended_at IS NULL OR ended_at >= {FROM}){where('visits')}
GROUP BY time, queue_id ORDER BY time, queue_id""")


def interactions() -> str:
    """The conversations that started in the range, newest first, with their messages in and out."""
    counts = f"""SELECT conversation_id, countIf(direction = 'inbound') AS messages_in,
                  countIf(direction = 'outbound') AS messages_out FROM ({RELATIONS['messages']}) GROUP BY conversation_id"""
    return grafana(f"""SELECT c.conversation_id AS conversation_id, c.started_at AS started_at, c.channel AS channel,
       ifNull(c.media_type, 'messaging') AS media_type, {direction('')} AS direction, c.customer_id AS customer_id,
       c.first_queue_id AS first_queue_id, c.queues AS queues, c.agents AS agents, c.wrapup_codes AS wrapup_codes,
       ifNull(m.messages_in, 0) AS messages_in, ifNull(m.messages_out, 0) AS messages_out,
       c.interaction_ended_at AS interaction_ended_at, c.closed_at AS closed_at, c.close_reason AS close_reason
FROM (SELECT * FROM conversation_facts FINAL WHERE tenant_id = {{tenant:String}}) AS c
LEFT JOIN ({counts}) AS m ON m.conversation_id = c.conversation_id
WHERE c.started_at >= {FROM} AND c.started_at < {TO}
  AND $__conditionalAll(c.channel IN (${{channel:singlequote}}), $channel)
  AND $__conditionalAll(hasAny(c.queues, [${{queue:singlequote}}]), $queue)
  AND $__conditionalAll(hasAny(c.agents, [${{agent:singlequote}}]), $agent)
ORDER BY started_at DESC LIMIT 1000""")


def started_by_channel() -> str:
    """Conversations started per interval and channel (time series)."""
    start = "assumeNotNull(started_at)"
    return grafana(f"""SELECT {bucket(start)} AS time, ifNull(channel, '') AS channel, count() AS conversations
FROM conversation_facts FINAL
WHERE tenant_id = {{tenant:String}} AND started_at >= {FROM} AND started_at < {TO}
  AND $__conditionalAll(channel IN (${{channel:singlequote}}), $channel)
GROUP BY time, channel ORDER BY time, channel""")


# Template variables: (name, label, query) — tenant first, the filters' values of that tenant.
VARIABLES = {
    "tenant": "SELECT DISTINCT tenant_id FROM conversation_facts ORDER BY tenant_id",
    "queue": ("SELECT queue_id FROM (SELECT queue_id FROM queue_config_facts WHERE tenant_id = '${tenant}' UNION DISTINCT "
              "SELECT assumeNotNull(queue_id) FROM segment_facts WHERE tenant_id = '${tenant}' AND queue_id IS NOT NULL) "
              "ORDER BY queue_id"),
    "agent": ("SELECT DISTINCT agent_id FROM agent_status_facts WHERE tenant_id = '${tenant}' ORDER BY agent_id"),
    "channel": ("SELECT DISTINCT channel FROM segment_facts WHERE tenant_id = '${tenant}' ORDER BY channel"),
}
