"""The history generator's SQL (`switchboard generate`) and the model it draws from.

`plan.sql` draws each conversation's story into a plan table (`plan_table`: one per tenant,
dropped afterwards); each other file is one INSERT … SELECT of a fact table from it (statuses and
queue settings from `numbers()` and the model; message_timeline from the messages written), run in
`STEPS` order with the same parameters. `MODEL` is the contact center they imitate: acme's queues
(deploy/routing/acme.yaml) with their settings, how much traffic each gets and how long it waits,
the channels' shares and the hour-of-day arrival curve.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).parent
STEPS = ("plan", "queues", "statuses", "conversations", "messages", "timeline", "responses", "visits", "alerts",
         "interacts", "wrapups")
# The tables written, and the column and prefix that mark a generated row (live ids never have it).
GENERATED = {"conversation_facts": ("conversation_id", "gen-"), "message_facts": ("message_id", "gen-"),
             "segment_facts": ("fact_id", "seg:gen-"), "agent_status_facts": ("agent_id", "gen-agent-"),
             "queue_config_facts": ("decision_id", "rd:gen-"), "message_timeline": ("message_id", "gen-"),
             "conversation_starts": ("conversation_id", "gen-"), "message_span_by_conversation": ("conversation_id", "gen-"),
             "response_facts": ("message_id", "gen-")}
# Of those, the tables the views read that follow the facts (message_timeline copied from the
# messages, the others written by their materialized views): replaced with them, not facts.
DERIVED = ("message_timeline", "conversation_starts", "message_span_by_conversation", "response_facts")


def _queue(name, weight, *, skills=None, shared=0, wait, abandon, alert=30, sl=(80, 60), later_sl=None,
           silence=1800, acw=("optional", 60), codes, default=""):
    return {"name": name, "weight": weight, "skills": skills or {}, "shared": shared, "mean_wait_s": wait,
            "abandon_rate": abandon, "alert_timeout_seconds": alert, "service_level_percent": sl[0],
            "service_level_seconds": sl[1], "later_service_level_seconds": later_sl or sl[1],
            "short_abandon_seconds": 10, "abandon_after_silence_seconds": silence, "acw_mode": acw[0],
            "acw_timeout_seconds": acw[1], "wrapup_codes": codes, "default_code": default}


def _columns(rows: list[dict]) -> dict[str, list]:
    """Rows as columns: what plan.sql indexes by queue or channel number."""
    return {key: [row[key] for row in rows] for key in rows[0]}


QUEUES = [
    _queue("general", 40, shared=1, wait=45, abandon=0.08, sl=(80, 120), later_sl=90,
           codes=["resolved", "follow-up", "no-answer"]),
    _queue("cards", 28, skills={"cards": 1}, wait=35, abandon=0.07, acw=("time_boxed", 30),
           codes=["card-blocked", "card-replaced", "info-given", "card-no-code"], default="card-no-code"),
    _queue("billing", 22, skills={"billing": 1}, wait=90, abandon=0.10, sl=(80, 300), silence=3600,
           acw=("mandatory", 600), codes=["refund-issued", "explained", "escalated"]),
    _queue("vip", 10, wait=15, abandon=0.03, alert=60, sl=(90, 60), acw=("optional", 120),
           codes=["resolved", "follow-up", "escalated"]),
]
CHANNELS = [{"name": "web", "weight": 30, "account": "gen-web-widget"},
            {"name": "whatsapp", "weight": 28, "account": "gen-waba-109876543210"},
            {"name": "messenger", "weight": 18, "account": "gen-page-1029384756"},
            {"name": "line", "weight": 10, "account": "gen-line-U4af4980629"},
            {"name": "x", "weight": 6, "account": "gen-x-switchboard"},
            {"name": "open", "weight": 8, "account": "gen-open-api"}]
# Arrivals per UTC hour (relative): quiet nights, a morning climb, the lunch dip, an evening tail.
HOURS = [0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.7, 1.1, 1.4, 1.5, 1.45,
         1.3, 1.35, 1.45, 1.4, 1.25, 1.05, 0.9, 0.8, 0.7, 0.55, 0.4, 0.25]
MODEL = {"queues": _columns(QUEUES), "channels": _columns(CHANNELS), "hours": HOURS}


def statement(step: str) -> str:
    """The SQL of one step (one statement, parameters `{name:Type}` bound by the caller)."""
    if step == "responses":
        return responses()
    return (HERE / f"{step}.sql").read_text().strip().rstrip(";")


def responses() -> str:
    """response_facts (DDL 0063) of the generated messages, by the dictionary's definition in SQL
    (sink.metrics.responses_of): what the conversation processor works out as it orders them."""
    from sink.metrics import RESPONSE_COLUMNS, responses_of

    messages = ("SELECT message_id, conversation_id, channel, direction, sender_kind, agent_id, queue_id, "
                "occurred_at AS at FROM message_timeline WHERE tenant_id = {tenant:String} AND startsWith(message_id, 'gen-')")
    columns = ", ".join(RESPONSE_COLUMNS)
    return (f"INSERT INTO response_facts (tenant_id, {columns}) SELECT {{tenant:String}}, {columns} "
            f"FROM ({responses_of(messages)})")


def plan_table(tenant: str) -> str:
    """The name of a tenant's plan table while its history is generated (bound as an Identifier)."""
    return f"generated_plan_{hashlib.sha256(tenant.encode()).hexdigest()[:12]}"
