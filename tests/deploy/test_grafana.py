"""The Grafana dashboards (deploy/grafana): up to date with their generator, loaded back through
grafana-foundation-sdk's types, and every panel's and variable's SQL — expanded as Grafana and the
ClickHouse plugin expand it — run on the embedded engine through the sink's ClickHouse HTTP
interface as the readonly user, with the URL settings the plugin's driver sends (clickhouse-go:
max_execution_time = the query timeout + 5 s), on a few hand-written facts.

No Grafana server installs on these machines (docs/grafana.md), so the expander below is a port of
what the plugin does: `$__conditionalAll` and variable formatting in the browser
(src/data/CHDatasource.ts), then the backend macros (pkg/macros/macros.go). A `$__` macro it does
not know fails the test, and so does any variable no dashboard defines.
"""
from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from deploy.grafana.build import FOLDER, FOLDERS, rendered
from deploy.grafana.clickhouse import DATASOURCE, TIME_SERIES, ClickHouseQuery
from sink.rows import conversation_row, message_row, rows_of
from sink.rows_messages import response_row, timeline_row
from switchboard.settings import Settings
from tests.clickhouse_fixture import READER

pytestmark = pytest.mark.clickhouse
GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
RANGE = (NOW - timedelta(hours=2), NOW + timedelta(minutes=1))
INTERVAL_S = 60
# What clickhouse-go's HTTP transport puts in the URL (conn_http.go, context.go): settings, with
# max_execution_time from the plugin's 60 s query timeout. default_format is Native there; JSON here
# so the test can read the columns (see docs/grafana.md on the Native format).
PLUGIN_PARAMS = {"max_execution_time": "65", "client_protocol_version": "54460", "default_format": "JSONCompact"}


def dashboards() -> dict[str, dict]:
    """The committed dashboards' JSON."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(FOLDER.glob("*.json"))}


def test_the_committed_dashboards_are_what_the_generator_builds():
    files = rendered()
    assert sorted(files) == sorted(path for folder in FOLDERS for path in folder.glob("*.json"))
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m deploy.grafana.build"


@pytest.mark.parametrize("name", ["queues", "agents", "interactions"])
def test_each_dashboard_loads_through_the_sdk_types(name):
    saved = dashboards()[name]
    board = Dashboard.from_json(saved)
    assert json.loads(json.dumps(board, cls=JSONEncoder)) == saved   # nothing lost or unknown
    targets = [t for panel in board.panels for t in panel.targets]
    assert targets and all(isinstance(t, ClickHouseQuery) for t in targets)
    assert all(t.datasource.uid == DATASOURCE.uid and t.datasource.type_val == "grafana-clickhouse-datasource"
               for t in targets)
    names = {v.name for v in board.templating.list_val}
    assert "tenant" in names and set(referenced(board)) <= names | {"__timezone"}


def test_the_operations_dashboard_loads_through_the_sdk_types_on_the_provisioned_prometheus():
    from grafana_foundation_sdk.models.prometheus import Dataquery

    from deploy.grafana.build import OPERATIONS
    from deploy.grafana.operations import expressions

    saved = json.loads((OPERATIONS / "switchboard.json").read_text())
    board = Dashboard.from_json(saved)
    assert json.loads(json.dumps(board, cls=JSONEncoder)) == saved
    targets = [t for panel in board.panels for t in panel.targets]
    assert targets and all(isinstance(t, Dataquery) for t in targets), {type(t) for t in targets}
    [source] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())["datasources"]
    assert all((t.datasource["uid"], t.datasource["type"]) == (source["uid"], source["type"]) for t in targets)
    assert sorted(t.expr for t in targets) == sorted(expressions())
    scraped = yaml.safe_load((GRAFANA.parent / "prometheus" / "prometheus.yml").read_text())
    assert source["jsonData"]["timeInterval"] == scraped["global"]["scrape_interval"]
    assert {v.name for v in board.templating.list_val} == {"job"}
    assert set(re.findall(r"\$\{?(\w+)", " ".join(expressions()))) == {"job", "__rate_interval"}


def test_the_datasource_speaks_http_to_the_sinks_port_as_the_readonly_user():
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "clickhouse.yaml").read_text())
    [clickhouse] = source["datasources"]
    defaults = Settings.model_fields
    assert clickhouse["uid"] == DATASOURCE.uid and clickhouse["type"] == DATASOURCE.type_val
    assert clickhouse["jsonData"]["protocol"] == "http"
    assert clickhouse["jsonData"]["port"] == defaults["sink_port"].default
    assert clickhouse["jsonData"]["username"] == defaults["clickhouse_readonly_user"].default
    assert clickhouse["secureJsonData"]["password"] == "$SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "switchboard.yaml").read_text())
    assert provider["providers"][0]["options"]["foldersFromFilesStructure"] is True


def referenced(board: Dashboard) -> list[str]:
    """The variables the board's queries (panels and variables) refer to."""
    texts = [t.raw_sql for panel in board.panels for t in panel.targets]
    texts += [v.query for v in board.templating.list_val if isinstance(v.query, str)]
    return [name for text in texts for name in re.findall(r"\$\{?(\w+)", text) if not name.startswith("__")
            or name == "__timezone"]


# -- the expander: the plugin's frontend, then its backend --------------------------------------------

def macro_args(sql: str, start: int) -> list[str]:
    """getMacroArgs of src/data/CHDatasource.ts: the arguments after the '(' at `start`, untrimmed."""
    depth, last, args = 0, start + 1, []
    for match in re.finditer(r"[(),]", sql[start:]):
        at = start + match.start()
        depth += {"(": 1, ")": -1}.get(match.group(), 0)
        if match.group() == "," and depth == 1:
            args.append(sql[last:at])
            last = at + 1
        if depth == 0:
            return args + [sql[last:at]]
    return []


def conditional_all(sql: str, values: dict[str, list[str] | str]) -> str:
    """applyConditionalAll: `$__conditionalAll(phrase, $var)` is `1=1` when var is All, else the phrase."""
    while (at := sql.rfind("$__conditionalAll(")) != -1:
        phrase, var = macro_args(sql, at + len("$__conditionalAll"))
        name = re.search(r"(?<=\$\{)\w+(?=\})|(?<=\$)\w+", var.strip()).group()
        chosen = values[name]
        keep = phrase if chosen != "$__all" else "1=1"
        sql = sql.replace(f"$__conditionalAll({phrase},{var})", keep)
    return sql


VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\$(?P<plain>\w+)")


def variables(sql: str, values: dict[str, list[str] | str], tz: str) -> str:
    """Grafana's template replace with the plugin's format (arrays as 'a','b'); ${x:singlequote}."""
    def value(match: re.Match) -> str:
        name, fmt = match["braced"] or match["plain"], match["fmt"]
        if name == "__timezone":
            return tz
        if name.startswith("__"):
            return match.group(0)   # a backend macro
        chosen = values[name]       # KeyError: a variable no dashboard defines
        if isinstance(chosen, list):
            return ",".join(f"'{v}'" for v in chosen)
        return f"'{chosen}'" if fmt == "singlequote" else chosen
    return VARIABLE.sub(value, sql)


BACKEND = {"fromTime_ms": lambda: f"fromUnixTimestamp64Milli({int(RANGE[0].timestamp() * 1000)})",
           "toTime_ms": lambda: f"fromUnixTimestamp64Milli({int(RANGE[1].timestamp() * 1000)})",
           "fromTime": lambda: f"toDateTime({int(RANGE[0].timestamp())})",
           "toTime": lambda: f"toDateTime({int(RANGE[1].timestamp())})",
           "interval_s": lambda: str(INTERVAL_S)}


def macros(sql: str) -> str:
    """pkg/macros/macros.go for the macros the panels use; any other `$__` fails."""
    def expand(match: re.Match) -> str:
        assert match.group(1) in BACKEND, f"the test does not expand $__{match.group(1)}"
        return BACKEND[match.group(1)]()
    sql = re.sub(r"\$__(\w+)", expand, sql)
    assert "$" not in sql.replace("'$__all'", ""), sql
    return sql


def expand(sql: str, values: dict, tz: str) -> str:
    """The SQL the plugin's backend sends for `sql` with these variable values."""
    return macros(variables(conditional_all(sql, values), values, tz))


def test_the_expander_refuses_macros_and_variables_it_does_not_know():
    with pytest.raises(AssertionError, match="timeFilter"):
        expand("SELECT 1 WHERE $__timeFilter(at)", {}, "utc")
    with pytest.raises(KeyError):
        expand("SELECT 1 WHERE queue_id IN (${queues:singlequote})", {}, "utc")
    assert expand("SELECT 1 WHERE $__conditionalAll(hasAny(q, [${queue:singlequote}]), $queue)",
                  {"queue": ["a", "b"]}, "utc") == "SELECT 1 WHERE hasAny(q, ['a','b'])"
    assert expand("SELECT 1 WHERE $__conditionalAll(q IN (${queue:singlequote}), $queue)", {"queue": "$__all"}, "utc") == (
        "SELECT 1 WHERE 1=1")


# -- the facts and the run ---------------------------------------------------------------------------

def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def segment(tenant: str, conv: str, kind: str, ref: str, start: float, end: float | None, outcome: str | None,
            queue: str, agent: str | None = None, code: str | None = None) -> dict:
    """A segment-fact record (as routing writes it)."""
    return {"tenant_id": tenant, "fact_id": f"seg:{conv}:{kind}:{ref}", "conversation_id": conv, "customer_id": f"cust-{conv}",
            "channel": "whatsapp", "segment_type": kind, "queue_id": queue, "agent_id": agent, "started_at": ago(start),
            "ended_at": None if end is None else ago(end), "outcome": outcome, "media": "messaging", "offer_id": f"o-{conv}",
            "service_level_seconds": 60, "service_level_percent": 80, "short_abandon_seconds": 10, "wrapup_code": code,
            "transfer_type": None, "transfer_target": None, "wrapup_skipped": False}


@pytest.fixture(scope="module")
def tenant(clickhouse_store) -> str:
    """One answered conversation (q-sales, agent a-1, wrapped up), one short abandon, one waiting now
    (q-support), a-1 on queue (not responding for 10 minutes before) and a-2 not responding now."""
    t = f"t-{uuid.uuid4().hex[:12]}"
    records = [("segment-fact", segment(t, "c1", "queue_wait", "1", 40, 39, "answered", "q-sales")),
               ("segment-fact", segment(t, "c1", "alert", "o-c1", 39.2, 39, "accepted", "q-sales", "a-1")),
               ("segment-fact", segment(t, "c1", "interact", "o-c1", 39, 20, "completed", "q-sales", "a-1")),
               ("segment-fact", segment(t, "c1", "wrapup", "o-c1", 20, 19, "completed", "q-sales", "a-1", "sale")),
               ("segment-fact", segment(t, "c2", "queue_wait", "1", 30, 29.95, "abandoned", "q-sales")),
               ("segment-fact", segment(t, "c3", "queue_wait", "1", 5, None, None, "q-support"))]
    records += [("agent-status-interval", {"tenant_id": t, "fact_id": f"st:{a}", "agent_id": a, "status": s,
                                           "routing_status": s, "started_at": ago(m), "ended_at": ago(m), "closed": False,
                                           "next_status": None, "reason": "test"})
                for a, s, m in (("a-1", "on_queue", 60), ("a-2", "not_responding", 10))]
    records.append(("agent-status-interval", {"tenant_id": t, "fact_id": "st:a-1:nr", "agent_id": "a-1", "closed": True,
                                              "status": "not_responding", "routing_status": "not_responding",
                                              "started_at": ago(70), "ended_at": ago(60), "next_status": "on_queue",
                                              "reason": "test"}))
    rows = [row for subject, record in records for row in rows_of(subject, record)]
    rows += [message_row(t, "m1", conversation_id="c1", channel="whatsapp", direction="inbound", sender_kind="customer",
                         queue_id="q-sales", occurred_at=ago(41)),
             message_row(t, "m2", conversation_id="c1", channel="whatsapp", direction="outbound", sender_kind="agent",
                         agent_id="a-1", queue_id="q-sales", occurred_at=ago(38))]
    rows += [timeline_row(t, "m1", "c1", ago(41), channel="whatsapp", direction="inbound", queue_id="q-sales"),
             timeline_row(t, "m2", "c1", ago(38), channel="whatsapp", direction="outbound", agent_id="a-1",
                          queue_id="q-sales"),   # what the conversation-events of m1 and m2 add (sink/rows_messages.py)
             response_row(t, "m2", "c1", ago(38), {"responder": "agent", "agent_id": "a-1", "answers_from": ago(41),
                                                   "first_of_conversation": True, "first_of_participation": True},
                          channel="whatsapp")]
    rows += [conversation_row(t, c, ago(m), channel="whatsapp", customer_id=f"cust-{c}", started_at=ago(m), first_inbound_at=ago(m),
                              agents=agents, queues=[q]) for c, m, q, agents in
             (("c1", 41, "q-sales", ["a-1"]), ("c2", 31, "q-sales", []), ("c3", 6, "q-support", []))]
    for table, row in rows:
        clickhouse_store.insert(table, [row])
    return t


def run(clickhouse_url: str, sql: str) -> dict:
    """POST `sql` as the plugin's driver does, as the readonly user; the JSONCompact answer."""
    url = f"{clickhouse_url}/?{urllib.parse.urlencode(PLUGIN_PARAMS)}"
    auth = base64.b64encode(f"{READER[0]}:{READER[1]}".encode()).decode()
    request = urllib.request.Request(url, data=sql.encode(), headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        raise AssertionError(f"{refused.code}: {refused.read().decode()}\n{sql}") from None


def choices(tenant: str) -> list[tuple[dict, str]]:
    """Variable values to run with: everything All in UTC, and chosen queues, agents, channels elsewhere."""
    switches = {"minutes": "30", "sl_abandons": "1", "sl_short_abandons": "0", "sl_flow_outs": "0"}
    every = {"tenant": tenant, "queue": "$__all", "agent": "$__all", "channel": "$__all"} | switches
    chosen = {"tenant": tenant, "queue": ["q-sales", "q-support"], "agent": ["a-1"], "channel": ["whatsapp"]} | switches
    return [(every, "utc"), (chosen, "Asia/Kolkata")]


def panels_of(name: str):
    return [(panel, target) for panel in Dashboard.from_json(dashboards()[name]).panels for target in panel.targets]


@pytest.mark.parametrize("name", ["queues", "agents", "interactions"])
def test_every_panel_query_runs_as_the_readonly_user_and_returns_its_columns(clickhouse_url, tenant, name):
    for values, tz in choices(tenant):
        for panel, target in panels_of(name):
            answer = run(clickhouse_url, expand(target.raw_sql, values, tz))
            columns = {c["name"]: c["type"] for c in answer["meta"]}
            where = f"{name} / {panel.title} / {target.ref_id} ({tz})"
            assert answer["data"], f"{where}: no rows"
            if target.format == TIME_SERIES:
                assert next(iter(columns)) == "time" and columns["time"].startswith("DateTime"), where
            field = (panel.options or {}).get("reduceOptions", {}).get("fields", "")
            if field:
                assert field.strip("/^$") in columns, (where, columns)


def test_the_variables_list_the_tenants_values(clickhouse_url, tenant):
    board = Dashboard.from_json(dashboards()["queues"])
    found = {v.name: [row[0] for row in run(clickhouse_url, expand(v.query, {"tenant": tenant}, "utc"))["data"]]
             for v in board.templating.list_val if v.type_val == "query"}
    assert tenant in found["tenant"]
    assert found["queue"] == ["q-sales", "q-support"] and found["channel"] == ["whatsapp"]


def test_my_queues_activity_counts_what_the_facts_say(clickhouse_url, tenant):
    [(values, tz), _] = choices(tenant)
    queues = {p.title: t for p, t in panels_of("queues")}
    by_queue = run(clickhouse_url, expand(queues["My Queues Activity"].raw_sql, values, tz))
    rows = {r[0]: dict(zip([c["name"] for c in by_queue["meta"]], r)) for r in by_queue["data"]}
    since_import = (datetime.now(timezone.utc) - NOW).total_seconds()   # the facts are placed before NOW
    assert rows["q-support"]["waiting"] == 1 and 290 <= rows["q-support"]["longest_wait_s"] - since_import <= 400
    assert rows["q-sales"]["waiting"] == 0
    agents = run(clickhouse_url, expand(queues["Idle"].raw_sql, values, tz))
    assert dict(zip([c["name"] for c in agents["meta"]], agents["data"][0])) == {
        "on_queue": 1, "idle": 1, "interacting": 0, "not_responding": 1}
    performance = run(clickhouse_url, expand(queues["Queues Performance"].raw_sql, values, tz))
    sales = dict(zip([c["name"] for c in performance["meta"]], performance["data"][0]))
    # answered within the 60 s threshold; the 3 s abandon is short, so SL counts it not (switch 0)
    assert (sales["queue_id"], sales["offered"], sales["answered"], sales["short_abandons"], sales["sl_pct"]) == (
        "q-sales", 2, 1, 1, 100)
