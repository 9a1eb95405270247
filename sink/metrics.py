"""The metric dictionary as data: one ClickHouse expression per metric, over named fact relations.

docs/metrics.md explains each metric; this module is the one place its SQL lives, so the views,
the API, the CLI, Grafana and `make run`'s summary compute the same numbers. A metric is an
aggregate `expr` over a relation (`RELATIONS`: queue visits, alerts, agent participations,
statuses, messages, responses, concurrency), placed in an interval by its own time column `at`:
counts at the event's time, durations when they complete. `metric_sql` builds one parameterized
query per metric (bound, never spliced): `{tenant:String}`, `{from:DateTime64(3, 'UTC')}`,
`{to:...}` (half open), `{tz:String}` (the viewer's IANA zone), `{minutes:UInt32}` (15, 30, 60,
or 1440 for days) and the service-level switches `{sl_abandons:UInt8}`, `{sl_short_abandons:UInt8}`,
`{sl_flow_outs:UInt8}` (`DEFAULTS`).
"""
from __future__ import annotations

from dataclasses import dataclass

T = "{tenant:String}"
MS = "dateDiff('millisecond', started_at, ended_at) / 1000"
FROM_, TO_ = "{from:DateTime64(3, 'UTC')}", "{to:DateTime64(3, 'UTC')}"
# How far before a range its segments are read by start (DDL 0047's projection): a performance knob
# only. Older segments still open, or closed in or after the range, are found by their end and read
# with every copy, so each fact's latest version is exact whatever this is.
LOOKBACK = "INTERVAL 1 DAY"
SEGMENT = ("conversation_id", "queue_id", "channel", "media", "agent_id", "offer_id", "started_at", "ended_at", "outcome",
           "transfer_type", "transfer_target", "wrapup_code", "service_level_seconds", "short_abandon_seconds")


def segments(kind: str) -> str:
    """Every segment of `kind`, its latest version (FINAL over the tenant: Grafana's panels)."""
    return f"SELECT * FROM segment_facts FINAL WHERE tenant_id = {T} AND segment_type = '{kind}'"


def _old(kind: str, lo: str, ends: str = "") -> str:
    """The starts of `kind` segments begun over LOOKBACK before `lo` and not closed before `lo` (or
    closed as `ends` says): a key range of the ends from `lo` on (DDL 0054's by_end projection), not
    a scan of every older start."""
    return (f"SELECT started_at FROM segment_facts WHERE tenant_id = {T} AND segment_type = '{kind}' "
            f"AND started_at < {lo} - {LOOKBACK} AND (ended_at IS NULL OR ended_at >= {lo}{ends})")


def _touching(kind: str, lo: str, hi: str, ends: str = "") -> str:
    """Rows (every copy) of the `kind` segments that may touch [lo, hi): started in it or LOOKBACK
    before, or older ones found by their start (a key: a fact that shares such a start but ended
    earlier is read too, and left out by the metric's own time)."""
    return (f"tenant_id = {T} AND segment_type = '{kind}' AND started_at < {hi} AND "
            f"(started_at >= {lo} - {LOOKBACK} OR started_at IN ({_old(kind, lo, ends)}))")


def _latest(*where: str) -> str:
    """The latest version of each segment among the rows matching any of `where` (read apart, so
    each keeps its key range; copies of one version are the same row), as segment_facts' columns."""
    rows = " UNION ALL ".join(f"SELECT fact_id, version, {', '.join(SEGMENT)} FROM segment_facts WHERE {w}" for w in where)
    return f"SELECT * EXCEPT version FROM ({rows}) ORDER BY version DESC LIMIT 1 BY fact_id"


def segments_during(kind: str, lo: str = FROM_, hi: str = TO_) -> str:
    """The `kind` segments whose life touches [lo, hi), their latest version: every metric of them
    placed at their start or end in the range, and every one open then."""
    return _latest(_touching(kind, lo, hi))


# A participation is its interact and then its wrap-up (same offer and agent), which begins as the
# interact ends (streams/routing/acw.py start_wrapup; sink/generate/wrapups.sql): so the interacts of
# the wrap-ups that count in a range touch it too, or ended when a wrap-up still open at its start
# began; the wrap-ups of the interacts touching it began in it, before it, or when such an interact ended.
def _interacts(lo: str, hi: str) -> str:
    wrapups = (f"SELECT started_at FROM segment_facts WHERE tenant_id = {T} AND segment_type = 'wrapup' "
               f"AND started_at < {lo} AND (ended_at IS NULL OR ended_at >= {lo})")
    return _latest(_touching("interact", lo, hi, f" OR ended_at IN ({wrapups})"))


def _wrapups(lo: str, hi: str) -> str:
    # the ends of the interacts touching [lo, hi) that ended at hi or later: every interact begun
    # before hi and ended then (a key range of DDL 0054's ends, not a read of the touching interacts)
    ends = (f"SELECT ended_at FROM segment_facts WHERE tenant_id = {T} AND segment_type = 'interact' "
            f"AND ended_at >= {hi} AND started_at < {hi}")
    later = f"tenant_id = {T} AND segment_type = 'wrapup' AND started_at >= {hi} AND started_at IN ({ends})"
    return _latest(_touching("wrapup", lo, hi), later)


# Queue visits (segment_type queue_wait): entry, exit, exit reason, the queue's SL settings then.
def _visits(source: str) -> str:
    return f"""SELECT conversation_id, queue_id, channel, ifNull(media, 'messaging') AS media, started_at, ended_at,
       outcome, {MS} AS wait_s, ifNull(service_level_seconds, 0) AS sl_seconds,
       outcome = 'abandoned' AND wait_s < ifNull(short_abandon_seconds, 0) AS short_abandon
FROM ({source})"""


# One alert per offer: the agent, how long it rang, accepted / declined / timeout / revoked / abandoned.
def _alerts(source: str) -> str:
    return f"SELECT conversation_id, queue_id, channel, agent_id, started_at, ended_at, outcome, {MS} AS alert_s FROM ({source})"


# One row per agent participation (interact), with its wrap-up (same offer and agent): handle =
# interact + wrap-up, complete when the wrap-up ends (or the interaction, when none follows).
def _participations(interacts: str, wrapups: str) -> str:
    return f"""SELECT i.conversation_id AS conversation_id, i.queue_id AS queue_id, i.channel AS channel,
       ifNull(i.media, 'messaging') AS media, i.agent_id AS agent_id, i.offer_id AS offer_id,
       i.started_at AS started_at, i.ended_at AS ended_at, i.outcome AS outcome, i.transfer_type AS transfer_type,
       i.transfer_target AS transfer_target, w.wrapup_code AS wrapup_code,
       dateDiff('millisecond', i.started_at, i.ended_at) / 1000 AS interact_s,
       dateDiff('millisecond', w.started_at, w.ended_at) / 1000 AS acw_s,
       interact_s + ifNull(acw_s, 0) AS handle_s,
       if(w.started_at IS NOT NULL AND w.ended_at IS NULL, NULL, ifNull(w.ended_at, i.ended_at)) AS completed_at
FROM ({interacts}) AS i
LEFT JOIN (SELECT offer_id, agent_id, wrapup_code, CAST(started_at AS Nullable(DateTime64(3, 'UTC'))) AS started_at,
                  ended_at FROM ({wrapups})) AS w
       ON w.offer_id = i.offer_id AND w.agent_id = i.agent_id"""


VISITS = _visits(segments("queue_wait"))
ALERTS = _alerts(segments("alert"))
PARTICIPATIONS = _participations(segments("interact"), segments("wrapup"))
# Presence intervals; routing_status off_queue / on_queue / not_responding.
def _statuses(where: str = "") -> str:
    return f"""SELECT agent_id, status, routing_status, started_at, ended_at, {MS} AS status_s
FROM agent_status_facts FINAL WHERE tenant_id = {T}{where}"""


STATUSES = _statuses()
# Messages of customers and agents (system messages are no one's response): message_timeline's
# complete rows (DDL 0049), one per message (a replay's copy is the same row; the earliest if not).
def _messages(where: str = "") -> str:
    """The messages matching `where` (a condition on message_timeline)."""
    return (f"SELECT * FROM (SELECT message_id, conversation_id, channel, direction, sender_kind, agent_id, queue_id, "
            f"occurred_at AS at FROM message_timeline WHERE tenant_id = {T}{where}) ORDER BY at, message_id LIMIT 1 BY message_id")


MESSAGES = _messages()
# A response is the first message of one side after the other side wrote: its time since the first
# message of the other side's run. An agent's response is theirs; a customer's is attributed to the
# agent who began the run it answers (the agent of that participation, however late the reply).
# The conversation processor works each one out as it puts the messages in order
# (streams/conversations/responses.py) and the sink writes it to response_facts (DDL 0063):
# the views read responses there, by time. `responses_of` is the same definition in SQL (the
# backfill of DDL 0064, the generator, and the test that holds the processor to it).
_ORDER = "PARTITION BY conversation_id ORDER BY at, message_id"
_FRAME = f"({_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
_RUN = "(PARTITION BY conversation_id, run ORDER BY at, message_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
RESPONSE_COLUMNS = ("at", "message_id", "conversation_id", "channel", "responder", "agent_id", "response_s",
                    "first_of_conversation", "first_of_participation")


def responses_of(messages: str) -> str:
    """The responses (RESPONSE_COLUMNS) among `messages` (a query of _messages' columns)."""
    return f"""SELECT at, message_id, conversation_id, channel, responder, agent_id, response_s,
       row_number() OVER (PARTITION BY conversation_id, responder ORDER BY at, message_id) = 1 AS first_of_conversation,
       row_number() OVER (PARTITION BY conversation_id, responder, agent_id ORDER BY at, message_id) = 1 AS first_of_participation
FROM (SELECT conversation_id, message_id, channel, at, if(side = 'agent', 'agent', 'customer') AS responder,
             if(side = 'agent', agent_id, lagInFrame(run_agent) OVER {_FRAME}) AS agent_id,
             dateDiff('millisecond', lagInFrame(run_start) OVER {_FRAME}, at) / 1000 AS response_s, starts, run
      FROM (SELECT *, first_value(at) OVER {_RUN} AS run_start, first_value(agent_id) OVER {_RUN} AS run_agent
            FROM (SELECT *, sum(starts) OVER ({_ORDER} ROWS UNBOUNDED PRECEDING) AS run
                  FROM (SELECT *, side != lagInFrame(side, 1, '') OVER {_FRAME} AS starts
                        FROM (SELECT *, if(direction = 'inbound', 'customer', 'agent') AS side FROM ({messages})
                              WHERE direction = 'inbound' OR sender_kind = 'agent')))))
WHERE starts AND run > 1"""


def _responses(where: str = "") -> str:
    """response_facts' rows (matching `where`), one per message (a replay's copy is the same row)."""
    return (f"SELECT conversation_id, channel, at, responder, agent_id, response_s, first_of_conversation, "
            f"first_of_participation FROM (SELECT * FROM response_facts WHERE tenant_id = {T}{where} "
            f"ORDER BY at, message_id LIMIT 1 BY message_id)")


RESPONSES = _responses()
# Conversations an agent holds at once: +1 when a participation starts, -1 when it ends.
def _concurrency(participations: str) -> str:
    return f"""SELECT agent_id, at, sum(delta) OVER (PARTITION BY agent_id ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS held
FROM (SELECT agent_id, arrayJoin([(started_at, 1), (ifNull(ended_at, toDateTime64('2106-01-01 00:00:00', 3, 'UTC')), -1)]) AS e,
             e.1 AS at, e.2 AS delta FROM ({participations}))"""


CONCURRENCY = _concurrency(PARTICIPATIONS)

RELATIONS = {"visits": VISITS, "alerts": ALERTS, "participations": PARTICIPATIONS, "statuses": STATUSES,
             "messages": MESSAGES, "responses": RESPONSES, "concurrency": CONCURRENCY}
def during(name: str, lo: str = FROM_, hi: str = TO_) -> str:
    """Relation `name` over the facts that touch [lo, hi): the same rows as RELATIONS[name] for every
    metric placed in the range, read by time (segments: DDL 0047; messages: DDL 0049) instead of over
    the whole tenant."""
    if name == "visits":
        return _visits(segments_during("queue_wait", lo, hi))
    if name == "alerts":
        return _alerts(segments_during("alert", lo, hi))
    if name == "participations":
        return _participations(_interacts(lo, hi), _wrapups(lo, hi))
    if name == "concurrency":   # a participation's life is its interact's; one that ended before lo adds 0 to every later sum
        return _concurrency(segments_during("interact", lo, hi))
    if name == "statuses":   # read by their start, as segments (a status' copies share it: its key)
        old = (f"SELECT started_at FROM agent_status_facts WHERE tenant_id = {T} AND started_at < {lo} - {LOOKBACK} "
               f"AND (ended_at IS NULL OR ended_at >= {lo})")
        return _statuses(f" AND started_at < {hi} AND (started_at >= {lo} - {LOOKBACK} OR started_at IN ({old}))")
    if name == "messages":
        return _messages(f" AND occurred_at >= {lo} AND occurred_at < {hi}")
    if name == "responses":
        return _responses(f" AND at >= {lo} AND at < {hi}")
    return RELATIONS[name]


def serving(lo: str, hi: str) -> str:
    """(queue_id, agent_id) of the agents who served a queue since `lo`: routing listed them as its
    candidates, or, before `hi`, they were alerted for it (the alert ended or, open, began since) or took part in a
    conversation from it (their participation ended then or is open). The segments begun in the range
    qualify whatever their version (every copy has the fact's start, queue and agent: a read of three
    columns); the older ones by their latest version, found by their ends (DDL 0054)."""
    def older(kind: str) -> str:
        starts = (f"SELECT started_at FROM segment_facts WHERE tenant_id = {T} AND segment_type = '{kind}' "
                  f"AND started_at < {lo} AND (ended_at IS NULL OR ended_at >= {lo})")
        return _latest(f"tenant_id = {T} AND segment_type = '{kind}' AND started_at IN ({starts})")

    return f"""SELECT DISTINCT assumeNotNull(queue_id) AS queue_id, assumeNotNull(agent_id) AS agent_id FROM (
    SELECT queue_id, arrayJoin(candidate_agents) AS agent_id FROM routing_decisions FINAL
    WHERE tenant_id = {T} AND occurred_at >= {lo}
    UNION ALL SELECT queue_id, agent_id FROM segment_facts WHERE tenant_id = {T} AND segment_type IN ('alert', 'interact')
              AND started_at >= {lo} AND started_at < {hi}
    UNION ALL SELECT queue_id, agent_id FROM ({older('alert')}) WHERE ifNull(ended_at, started_at) >= {lo}
    UNION ALL SELECT queue_id, agent_id FROM ({older('interact')}) WHERE ended_at IS NULL OR ended_at >= {lo})
WHERE queue_id IS NOT NULL AND agent_id IS NOT NULL"""


# The conversations that may have started in [from, to): a start of theirs is there (DDL 0051), or
# a segment (a conversation only routing wrote about starts with its first segment). Their segments
# began at their start or later: read by start (DDL 0047) from LOOKBACK before the range on.
STARTED = (f"SELECT conversation_id FROM conversation_starts WHERE tenant_id = {T} AND at >= {FROM_} AND at < {TO_} "
           f"UNION ALL SELECT conversation_id FROM segment_facts WHERE tenant_id = {T} AND started_at >= {FROM_} "
           f"AND started_at < {TO_}")


def started_segments(kind: str | None = None, latest: bool = True, ids: str = STARTED) -> str:
    """The segments (of `kind`, else all) of the conversations of STARTED (or of `ids`, a query of
    some of them), each its latest version (not `latest`: every copy)."""
    kind_ = f" AND segment_type = '{kind}'" if kind else ""
    rows = (f"SELECT fact_id, version, segment_type, {', '.join(SEGMENT)} FROM segment_facts "
            f"WHERE tenant_id = {T}{kind_} AND started_at >= {FROM_} - {LOOKBACK} AND conversation_id IN ({ids})")
    return f"SELECT * EXCEPT version FROM ({rows}) ORDER BY version DESC LIMIT 1 BY fact_id" if latest else rows


def started(name: str, ids: str = STARTED) -> str:
    """Relation `name` over the conversations of STARTED only (every fact of theirs, whenever): what
    RELATIONS[name] gives for each conversation that started in [from, to); over those of `ids`
    (a query of some of them: a view's page) if given."""
    if name == "visits":
        return _visits(started_segments("queue_wait", ids=ids))
    if name == "participations":
        return _participations(started_segments("interact", ids=ids), started_segments("wrapup", ids=ids))
    # Their messages begin at their start, as their segments do: by time from LOOKBACK before the
    # range to the last message of those whose first one is there (DDL 0056).
    spans = (f"SELECT min(first_at) AS first_at, max(last_at) AS last_at FROM message_span_by_conversation "
             f"WHERE tenant_id = {T} AND conversation_id IN ({ids}) GROUP BY conversation_id")
    def within(at: str) -> str:
        return (f" AND {at} >= {FROM_} - {LOOKBACK} AND {at} <= (SELECT max(last_at) FROM ({spans}) "
                f"WHERE first_at >= {FROM_} - {LOOKBACK}) AND conversation_id IN ({ids})")
    return _responses(within("at")) if name == "responses" else _messages(within("occurred_at"))


# The columns a metric of each relation may be grouped by (the views' filters).
DIMENSIONS = {"visits": ("queue_id", "channel", "media"), "alerts": ("queue_id", "agent_id", "channel"),
              "participations": ("queue_id", "agent_id", "channel", "media", "wrapup_code"),
              "statuses": ("agent_id", "status", "routing_status"), "messages": ("channel", "agent_id", "queue_id"),
              "responses": ("agent_id", "channel"), "concurrency": ("agent_id",)}
# Service level: answered within the threshold over answered, plus abandons, short abandons and
# flow-outs as the switches say (Genesys' "include abandons / short abandons / flow-outs").
SL_DENOMINATOR = ("countIf(outcome = 'answered') + {sl_abandons:UInt8} * countIf(outcome = 'abandoned' AND "
                  "(NOT short_abandon OR {sl_short_abandons:UInt8})) + {sl_flow_outs:UInt8} * countIf(outcome = 'flowed_out')")
DEFAULTS = {"sl_abandons": 1, "sl_short_abandons": 0, "sl_flow_outs": 0}


# docs/metrics.md: a conversation is outbound when a business-initiated message belongs to it or its
# first message is ours (`c` the conversation_facts row's alias: `c.` inside views, none in Grafana).
def direction(c: str = "c.") -> str:
    """The conversation's direction, outbound or inbound, from its conversation_facts columns."""
    return (f"if({c}business_initiated = 1 OR ({c}first_response_at IS NOT NULL AND ({c}first_inbound_at IS NULL "
            f"OR {c}first_response_at < {c}first_inbound_at)), 'outbound', 'inbound')")


# The real-time metrics (My Queues Activity): (relation, expression) over the relation's rows open at
# `{now}` (OPEN): visits waiting and for how long the oldest has, participations under way.
NOW = "{now:DateTime64(3, 'UTC')}"
OPEN = f"ended_at IS NULL AND started_at <= {NOW}"
NOW_METRICS = {"waiting": ("visits", "count()"),
               "longest_wait_s": ("visits", f"CAST(dateDiff('second', min(started_at), {NOW}) AS Nullable(Int64))"),
               "interacting": ("participations", "count()")}


@dataclass(frozen=True)
class Metric:
    """One metric: an aggregate `expr` over `relation`, placed in an interval by the column `at`."""

    relation: str
    at: str
    expr: str
    doc: str


def _m(relation: str, at: str, expr: str, doc: str) -> Metric:
    return Metric(relation, at, expr, doc)


METRICS: dict[str, Metric] = {
    "offered": _m("visits", "started_at", "count()", "queue visits that entered (nOffered)"),
    "answered": _m("visits", "ended_at", "countIf(outcome = 'answered')", "visits an agent answered (tAnswered)"),
    "abandoned": _m("visits", "ended_at", "countIf(outcome = 'abandoned')", "visits abandoned (tAbandon)"),
    "short_abandons": _m("visits", "ended_at", "countIf(short_abandon)", "abandoned under the queue's threshold"),
    "flow_outs": _m("visits", "ended_at", "countIf(outcome = 'flowed_out')", "visits that left for another queue (nFlowOut)"),
    "wait_s": _m("visits", "ended_at", "ifNull(sumIf(wait_s, outcome = 'answered'), 0)", "total wait of answered visits"),
    "avg_answer_s": _m("visits", "ended_at", "avgIfOrNull(wait_s, outcome = 'answered')", "average speed of answer (ASA)"),
    "avg_abandon_s": _m("visits", "ended_at", "avgIfOrNull(wait_s, outcome = 'abandoned')", "average time to abandon"),
    "sl_pct": _m("visits", "ended_at", f"100 * countIf(outcome = 'answered' AND wait_s <= sl_seconds) / nullIf({SL_DENOMINATOR}, 0)",
                 "service level %, switches sl_abandons / sl_short_abandons / sl_flow_outs"),
    "answer_pct": _m("visits", "ended_at", "100 * countIf(outcome = 'answered') / nullIf(count(), 0)", "answered of visits that ended"),
    "abandon_pct": _m("visits", "ended_at", "100 * countIf(outcome = 'abandoned') / nullIf(count(), 0)", "abandoned of visits that ended"),
    "alerts": _m("alerts", "ended_at", "count()", "offers that ended (alerted)"),
    "alert_s": _m("alerts", "ended_at", "sum(alert_s)", "total alert time (tAlert)"),
    "not_answered": _m("alerts", "ended_at", "countIf(outcome IN ('declined', 'timeout'))", "offers declined or timed out (they make the agent not responding)"),
    "agent_answered": _m("participations", "started_at", "count()", "participations an agent accepted (tAnswered per agent)"),
    "handled": _m("participations", "completed_at", "count()", "participations completed, wrap-up included (tHandle count)"),
    "handle_s": _m("participations", "completed_at", "sum(handle_s)", "interact + wrap-up (tHandle)"),
    "avg_handle_s": _m("participations", "completed_at", "avgOrNull(handle_s)", "average handle time (AHT)"),
    "interact_s": _m("participations", "completed_at", "sum(interact_s)", "total interact time (tTalk)"),
    "acw_s": _m("participations", "completed_at", "sum(ifNull(acw_s, 0))", "total after-contact work (tAcw)"),
    "transferred": _m("participations", "ended_at", "countIf(outcome = 'transferred')", "participations ended by a transfer (nTransferred)"),
    "blind_transfers": _m("participations", "ended_at", "countIf(outcome = 'transferred' AND transfer_type = 'blind')", "blind transfers (nBlindTransferred)"),
    "consult_transfers": _m("participations", "ended_at", "countIf(outcome = 'transferred' AND transfer_type = 'consult')", "consult transfers (nConsultTransferred)"),
    "transfers_to_queue": _m("participations", "ended_at", "countIf(startsWith(ifNull(transfer_target, ''), 'queue:'))", "transfers to a queue"),
    "transfers_to_agent": _m("participations", "ended_at", "countIf(startsWith(ifNull(transfer_target, ''), 'agent:'))", "transfers to an agent"),
    "not_responding_s": _m("statuses", "ended_at", "ifNull(sumIf(status_s, routing_status = 'not_responding'), 0)", "time not responding (tNotResponding)"),
    "on_queue_s": _m("statuses", "ended_at", "ifNull(sumIf(status_s, routing_status = 'on_queue'), 0)", "time on queue"),
    "off_queue_s": _m("statuses", "ended_at", "ifNull(sumIf(status_s, routing_status = 'off_queue'), 0)", "time off queue"),
    "messages_in": _m("messages", "at", "countIf(direction = 'inbound')", "customer messages"),
    "messages_out": _m("messages", "at", "countIf(direction = 'outbound')", "messages to customers (agents and system)"),
    "first_response_s": _m("responses", "at", "avgIfOrNull(response_s, responder = 'agent' AND first_of_conversation)",
                           "agents' first response time per conversation"),
    "first_response_participation_s": _m("responses", "at", "avgIfOrNull(response_s, responder = 'agent' AND first_of_participation)",
                                         "each agent's first response time in their participation"),
    "agent_response_s": _m("responses", "at", "avgIfOrNull(response_s, responder = 'agent')", "agents' average response time"),
    "customer_response_s": _m("responses", "at", "avgIfOrNull(response_s, responder = 'customer')",
                              "customers' average response time, attributed to the agent they answer"),
    "max_concurrent": _m("concurrency", "at", "max(held)", "most conversations an agent held at once"),
}


def bucket(at: str) -> str:
    """The start of `at`'s interval in the viewer's zone, on the local wall clock (toStartOfInterval
    aligns minutes to the epoch: 60 min in Asia/Kolkata would start at :30); 1440: the local day."""
    day = f"toStartOfDay({at}, {{tz:String}})"
    return f"{day} + toIntervalMinute(intDiv(dateDiff('minute', {day}, {at}), {{minutes:UInt32}}) * {{minutes:UInt32}})"


def metric_sql(name: str, by: tuple[str, ...] = ()) -> str:
    """The query of one metric per interval (and per `by` columns): interval_start, *by, value."""
    metric = METRICS[name]
    unknown = set(by) - set(DIMENSIONS[metric.relation])
    if unknown:
        raise ValueError(f"{name} cannot be grouped by {sorted(unknown)}: {DIMENSIONS[metric.relation]}")
    keys = ", ".join(("interval_start", *by))
    return (f"SELECT {bucket(metric.at)} AS interval_start, {''.join(c + ', ' for c in by)}{metric.expr} AS value\n"
            f"FROM ({during(metric.relation)})\n"
            f"WHERE {metric.at} >= {{from:DateTime64(3, 'UTC')}} AND {metric.at} < {{to:DateTime64(3, 'UTC')}}\n"
            f"GROUP BY {keys} ORDER BY {keys}")
