"""The grafana-clickhouse-datasource query as a grafana-foundation-sdk data query.

The SDK has no ClickHouse type, so this is the plugin's query model (src/types/sql.ts of
grafana/clickhouse-datasource: `CHSqlQuery`) as a `cog.variants.Dataquery`, registered under the
plugin's type so `Dashboard.from_json` reads a dashboard's targets back into it. `pluginVersion`
must be ≥ 4.0.0, or the plugin treats the query as a v3 one and migrates it (src/data/migration.ts).
"""
from __future__ import annotations

import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

PLUGIN = "grafana-clickhouse-datasource"
PLUGIN_VERSION = "4.20.0"   # the plugin's query model these dashboards were checked against
DATASOURCE = DataSourceRef(type_val=PLUGIN, uid="switchboard-clickhouse")
# sqlds formats (grafana/sqlds query.go): what the backend turns the rows into.
TIME_SERIES, TABLE = 0, 1
QUERY_TYPES = {TIME_SERIES: "timeseries", TABLE: "table"}


class ClickHouseQuery(cogvariants.Dataquery):
    """One SQL-editor query of the ClickHouse datasource (editorType sql, rawSql, format)."""

    def __init__(self, ref_id: str = "", raw_sql: str = "", format: int = TABLE,
                 datasource: DataSourceRef | None = None, plugin_version: str = PLUGIN_VERSION) -> None:
        self.ref_id, self.raw_sql, self.format = ref_id, raw_sql, format
        self.datasource, self.plugin_version = datasource or DATASOURCE, plugin_version

    def to_json(self) -> dict[str, object]:
        """The target as the plugin saves it."""
        return {"refId": self.ref_id, "datasource": self.datasource, "editorType": "sql",
                "format": self.format, "queryType": QUERY_TYPES[self.format],
                "pluginVersion": self.plugin_version, "rawSql": self.raw_sql}

    @classmethod
    def from_json(cls, data: dict[str, typing.Any]) -> typing.Self:
        """A saved target; refuses what is not an SQL-editor ClickHouse query."""
        if data.get("editorType") != "sql" or data.get("format") not in QUERY_TYPES:
            raise ValueError(f"not a ClickHouse SQL query: {data.get('refId')!r}")
        return cls(data["refId"], data["rawSql"], data["format"], DataSourceRef.from_json(data["datasource"]),
                   data["pluginVersion"])


class Query(cogbuilder.Builder[ClickHouseQuery]):
    """Builder of a ClickHouseQuery, for panels' `with_target`."""

    def __init__(self, ref_id: str, sql: str, format: int = TABLE) -> None:
        self._internal = ClickHouseQuery(ref_id, sql, format)

    def build(self) -> ClickHouseQuery:
        """The query."""
        return self._internal


cogruntime.register_dataquery_variant(cogruntime.DataqueryConfig(PLUGIN, ClickHouseQuery.from_json))
