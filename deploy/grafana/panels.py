"""Panel and dashboard helpers over grafana-foundation-sdk's builders (no SQL here: queries.py)."""
from __future__ import annotations

import re

from grafana_foundation_sdk.builders import dashboard, stat, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.models.common import GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, GridPos, VariableOption, VariableRefresh

from . import queries as q
from .clickhouse import DATASOURCE, TABLE, TIME_SERIES, Query

FILTER_LABELS = {"queue": "Queue", "agent": "Agent", "channel": "Channel"}
SWITCHES = {"sl_abandons": ("SL counts abandons", "1"), "sl_short_abandons": ("SL counts short abandons", "0"),
            "sl_flow_outs": ("SL counts flow-outs", "0")}


def tile(title: str, sql: str, column: str, x: int, y: int = 0, unit: str = "none"):
    """A stat panel showing one column of a one-row table query."""
    reduce = ReduceDataOptions().calcs(["lastNotNull"]).fields(f"/^{column}$/").values(False)
    return (stat.Panel().title(title).datasource(DATASOURCE).with_target(Query("A", sql, TABLE))
            .unit(unit).reduce_options(reduce).grid_pos(GridPos(h=4, w=3, x=x, y=y)))


def chart(title: str, targets: list[tuple[str, str]], pos: GridPos, unit: str = "none", bars: bool = False):
    """A time series panel of `targets` (ref id, SQL) in time series format (the backend pivots long to wide)."""
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).grid_pos(pos)
    if bars:
        panel = panel.draw_style(GraphDrawStyle.BARS).fill_opacity(60)
    for ref, sql in targets:
        panel = panel.with_target(Query(ref, sql, TIME_SERIES))
    return panel


def grid(title: str, sql: str, pos: GridPos):
    """A table panel of one table query."""
    return table.Panel().title(title).datasource(DATASOURCE).with_target(Query("A", sql, TABLE)).grid_pos(pos)


def _query_variable(name: str, label: str, multi: bool):
    variable = (dashboard.QueryVariable(name).label(label).datasource(DATASOURCE).query(q.VARIABLES[name])
                .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED))
    return variable.multi(True).include_all(True) if multi else variable


def _custom_variable(name: str, label: str, values: list[str], default: str):
    return (dashboard.CustomVariable(name).label(label).values(",".join(values))
            .current(VariableOption(selected=True, text=default, value=default)))


def variables(panels: list) -> list:
    """The tenant, then the filters, interval size and SL switches the panels' SQL refers to."""
    text = " ".join(target.raw_sql for panel in panels for target in panel.build().targets or [])
    used = set(re.findall(r"\$\{?(\w+)", text))
    found = [_query_variable("tenant", "Tenant", multi=False)]
    found += [_query_variable(name, label, multi=True) for name, label in FILTER_LABELS.items() if name in used]
    if "minutes" in used:
        found.append(_custom_variable("minutes", "Interval (minutes, 1440 = day)", ["15", "30", "60", "1440"], "30"))
    found += [_custom_variable(name, label, ["0", "1"], default) for name, (label, default) in SWITCHES.items()
              if name in used]
    return found


def board(uid: str, title: str, panels: list, time_from: str, refresh: str | None = None):
    """A dashboard of `panels` with the variables they use, in the browser's time zone unless changed."""
    built = (dashboard.Dashboard(title).uid(uid).tags(["switchboard", "reports"]).timezone("browser")
             .time(time_from, "now").tooltip(DashboardCursorSync.CROSSHAIR).editable())
    if refresh:
        built = built.refresh(refresh)
    for variable in variables(panels):
        built = built.with_variable(variable)
    for panel in panels:
        built = built.with_panel(panel)
    return built.build()
