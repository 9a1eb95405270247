"""The report dashboards: Queues (My Queues Activity and Queues Performance), Agents Performance, Interactions."""
from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard, GridPos

from . import queries as q
from .panels import board, chart, grid, tile

QUEUE_METRICS = ("offered", "answered", "abandoned", "short_abandons", "flow_outs", "avg_answer_s",
                 "avg_abandon_s", "sl_pct", "answer_pct", "abandon_pct")
AGENT_METRICS = ("agent_answered", "handled", "avg_handle_s", "handle_s", "interact_s", "acw_s", "transferred",
                 "alerts", "not_answered", "first_response_s", "agent_response_s", "customer_response_s",
                 "not_responding_s", "on_queue_s", "max_concurrent")


def pos(x: int, y: int, w: int = 12, h: int = 8) -> GridPos:
    """A grid position (24 columns)."""
    return GridPos(h=h, w=w, x=x, y=y)


def queues() -> Dashboard:
    """My Queues Activity (now, refreshed every 10 s) above the queues' performance per interval."""
    totals, agents = q.activity(by_queue=False), q.agents_now()
    tiles = [("Waiting now", totals, "waiting", "none"), ("Longest wait", totals, "longest_wait_s", "s"),
             ("Agents on queue", agents, "on_queue", "none"), ("Idle", agents, "idle", "none"),
             ("Interacting", agents, "interacting", "none"), ("Not responding", agents, "not_responding", "none"),
             ("Offered today", totals, "offered_today", "none"), ("SL % today", totals, "sl_pct_today", "percent")]
    panels = [tile(title, sql, column, 3 * i, unit=unit) for i, (title, sql, column, unit) in enumerate(tiles)]
    panels += [
        grid("My Queues Activity", q.activity(by_queue=True), pos(0, 4, 24, 6)),
        chart("Waiting and longest wait", [("A", q.waiting_over_time())], pos(0, 10)),
        chart("Service level % per interval", [("A", q.series("sl_pct", ("queue_id",)))], pos(12, 10), "percent"),
        chart("Offered and answered per interval", [("A", q.series("offered")), ("B", q.series("answered"))],
              pos(0, 18), bars=True),
        chart("Abandoned per interval", [("A", q.series("abandoned", ("queue_id",)))], pos(12, 18), bars=True),
        grid("Queues Performance", q.summary("queue_id", QUEUE_METRICS), pos(0, 26, 24, 8)),
    ]
    return board("switchboard-queues", "Switchboard · Queues", panels, "now-12h", refresh="10s")


def agents() -> Dashboard:
    """Agents Performance: the summary per agent and their handle time and answers per interval."""
    panels = [
        grid("Agents Performance", q.summary("agent_id", AGENT_METRICS), pos(0, 0, 24, 10)),
        chart("Average handle time", [("A", q.series("avg_handle_s", ("agent_id",)))], pos(0, 10), "s"),
        chart("Answered per agent", [("A", q.series("agent_answered", ("agent_id",)))], pos(12, 10), bars=True),
        chart("Agents' response time", [("A", q.series("agent_response_s", ("agent_id",)))], pos(0, 18), "s"),
        chart("Time not responding", [("A", q.series("not_responding_s", ("agent_id",)))], pos(12, 18), "s"),
    ]
    return board("switchboard-agents", "Switchboard · Agents Performance", panels, "now-24h")


def interactions() -> Dashboard:
    """Interactions: the conversations of the range, and their volume per interval."""
    panels = [
        chart("Conversations started", [("A", q.started_by_channel())], pos(0, 0), bars=True),
        chart("Messages in and out", [("A", q.series("messages_in")), ("B", q.series("messages_out"))], pos(12, 0)),
        grid("Interactions", q.interactions(), pos(0, 8, 24, 14)),
    ]
    return board("switchboard-interactions", "Switchboard · Interactions", panels, "now-24h")


BOARDS = {"queues": queues, "agents": agents, "interactions": interactions}
