"""The operations dashboard (issue 16): what every role's /metrics says, through the Prometheus
datasource (provisioning/datasources/prometheus.yaml) — processes up and ready, webhooks per channel
and status, events in and out per topic, consumer lag, dead letters, batch times, deliveries and
the ACD. Every series named here is one a role exports (docs/operations.md, "Metrics and health");
tests/integration/test_prometheus_scrape.py runs each expression on a real Prometheus scraping a run.
"""
from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.models import prometheus as prometheus_model
from grafana_foundation_sdk.models.common import GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DataSourceRef, GridPos

DATASOURCE = DataSourceRef(type_val="prometheus", uid="switchboard-prometheus")
cogruntime.register_dataquery_variant(prometheus_model.variant_config())   # Dashboard.from_json reads its targets
RATE = "$__rate_interval"   # Grafana's: at least four scrape intervals, so a rate always has two samples

# (title, unit, [(expression, legend)], bars): one time series panel each, in rows of two.
CHARTS = [
    ("Webhook responses per second", "reqps",
     [('sum by (channel, status) (rate(switchboard_http_responses_total{job=~"$job"}[%s]))' % RATE,
       "{{channel}} {{status}}")], False),
    ("Events published per second", "ops",
     [('sum by (job, topic) (rate(switchboard_events_out_total{job=~"$job"}[%s]))' % RATE, "{{job}} → {{topic}}")],
     False),
    ("Consumer lag (records)", "none",
     [('sum by (job, group, topic) (switchboard_consumer_lag{job=~"$job"})', "{{job}} {{topic}}")], False),
    ("Dead letters in the last 5 minutes", "none",
     [('sum by (job, topic) (increase(switchboard_dead_letters_total{job=~"$job"}[5m]))', "{{job}} {{topic}}")], True),
    ("Batch time, consumed to committed (p95)", "s",
     [('histogram_quantile(0.95, sum by (job, stage, le) '
       '(rate(switchboard_processing_seconds_bucket{job=~"$job"}[%s])))' % RATE, "{{stage}}")], False),
    ("Processor events per second", "ops",
     [('sum by (processor) (rate(switchboard_processor_events_total{job=~"$job"}[%s]))' % RATE, "{{processor}}"),
      ('sum by (processor) (rate(switchboard_processor_dead_letters_total{job=~"$job"}[%s]))' % RATE,
       "{{processor}} dead-lettered")], False),
    ("Deliveries per second", "ops",
     [('sum by (channel, outcome) (rate(switchboard_delivery_outcomes_total{job=~"$job"}[%s]))' % RATE,
       "{{channel}} {{outcome}}"),
      ('sum by (channel) (rate(switchboard_delivery_retries_total{job=~"$job"}[%s]))' % RATE, "{{channel}} retries")],
     False),
    ("ACD: waiting per queue, decisions per second", "none",
     [('sum by (tenant, queue) (switchboard_acd_queue_depth{job=~"$job"})', "{{queue}} waiting"),
      ('sum by (kind) (rate(switchboard_acd_decisions_total{job=~"$job"}[%s]))' % RATE, "{{kind}}/s")], False),
    ("Rows written to ClickHouse per second", "ops",
     [('sum by (table) (rate(switchboard_sink_rows_total{job=~"$job"}[%s]))' % RATE, "{{table}}")], True),
]
# (title, expression, unit): the stat tiles above the charts.
TILES = [
    ("Processes down", 'count(up{job=~"$job"} == 0) or vector(0)', "none"),
    ("Not ready", 'count(switchboard_ready{job=~"$job"} == 0) or vector(0)', "none"),
    ("Webhooks/s", 'sum(rate(switchboard_http_responses_total{job=~"$job"}[%s]))' % RATE, "reqps"),
    ("Consumer lag", 'sum(switchboard_consumer_lag{job=~"$job"})', "none"),
    ("Dead letters (1 h)", 'sum(increase(switchboard_dead_letters_total{job=~"$job"}[1h])) or vector(0)', "none"),
    ("Webhook 5xx/s", 'sum(rate(switchboard_http_responses_total{job=~"$job",status=~"5.."}[%s])) or vector(0)'
     % RATE, "reqps"),
]


def query(ref: str, expr: str, legend: str = "") -> prometheus.Dataquery:
    """A Prometheus range query in code mode."""
    built = prometheus.Dataquery().ref_id(ref).expr(expr).range().datasource(DATASOURCE)
    return built.legend_format(legend) if legend else built


def expressions() -> list[str]:
    """Every PromQL expression of the dashboard, as written (Grafana variables unexpanded)."""
    return [expr for _, _, targets, _ in CHARTS for expr, _ in targets] + [expr for _, expr, _ in TILES]


def metrics() -> dashboard.Dashboard:
    """The dashboard: the tiles, then the charts two per row; `$job` picks the roles."""
    board = (dashboard.Dashboard("Switchboard · Operations").uid("switchboard-operations")
             .tags(["switchboard", "operations"]).timezone("browser").time("now-1h", "now").refresh("30s")
             .tooltip(DashboardCursorSync.CROSSHAIR).editable()
             .with_variable(dashboard.QueryVariable("job").label("Role").datasource(DATASOURCE)
                            .query("label_values(switchboard_info, job)").multi(True).include_all(True)
                            .all_value(".*")))
    width = 24 // len(TILES)
    for i, (title, expr, unit) in enumerate(TILES):
        reduce = ReduceDataOptions().calcs(["lastNotNull"]).values(False)
        board = board.with_panel(stat.Panel().title(title).datasource(DATASOURCE).with_target(query("A", expr))
                                 .unit(unit).reduce_options(reduce).grid_pos(GridPos(h=4, w=width, x=i * width, y=0)))
    for i, (title, unit, targets, bars) in enumerate(CHARTS):
        panel = (timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit)
                 .grid_pos(GridPos(h=8, w=12, x=12 * (i % 2), y=4 + 8 * (i // 2))))
        if bars:
            panel = panel.draw_style(GraphDrawStyle.BARS).fill_opacity(60)
        for ref, (expr, legend) in zip("ABCDEFGH", targets):
            panel = panel.with_target(query(ref, expr, legend))
        board = board.with_panel(panel)
    return board.build()
