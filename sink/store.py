"""One SQL interface, two backends: the embedded engine in-process, or a ClickHouse server.

Both run the same DDL and the same SQL text; parameters use ClickHouse's server-side binding
(`{name:Type}`), which chdb and clickhouse-connect both understand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Protocol

from .embedded import EmbeddedClickHouse
from .errors import ClickHouseError, code_of
from .faults import armed as write_refusal


@dataclass
class Result:
    """Rows of a query: the subset of clickhouse-connect's QueryResult that reports use."""

    column_names: tuple[str, ...]
    result_rows: list[tuple]

    def named_results(self) -> list[dict]:
        """Each row as a dict keyed by column name."""
        return [dict(zip(self.column_names, row)) for row in self.result_rows]


class Store(Protocol):
    """What the sink, migrations and reports need from ClickHouse."""

    def command(self, sql: str, parameters: dict | None = None) -> None: ...
    def query(self, sql: str, parameters: dict | None = None) -> Result: ...
    def insert(self, table: str, rows: list[dict]) -> None: ...


def _utc_text(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _json_default(value):
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, Decimal):  # a price: its shortest float text is the decimal as written (0.0135)
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r}")


def _bind(parameters: dict | None) -> dict[str, str]:
    """Parameter values as ClickHouse's text form (what param_<name> carries over HTTP)."""
    def text(v):
        if isinstance(v, datetime):
            return _utc_text(v)
        if isinstance(v, (list, tuple)):
            return "[" + ",".join("'" + str(x).replace("\\", "\\\\").replace("'", "\\'") + "'"
                                  for x in v) + "]"
        return str(v)
    return {k: text(v) for k, v in (parameters or {}).items()}


class EmbeddedStore:
    """The store of the process that owns the embedded engine."""

    def __init__(self, engine: EmbeddedClickHouse):
        self.engine = engine

    def command(self, sql: str, parameters: dict | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT … SELECT)."""
        self.engine.run(sql, params=_bind(parameters))

    def query(self, sql: str, parameters: dict | None = None) -> Result:
        """Run a SELECT; Python values (tz-aware datetimes) via Arrow."""
        import pyarrow as pa

        raw = self.engine.run(sql, "ArrowStream", _bind(parameters))
        table = pa.ipc.open_stream(raw).read_all()
        return Result(tuple(table.column_names), [tuple(r.values()) for r in table.to_pylist()])

    def insert(self, table: str, rows: list[dict]) -> None:
        """Insert row dicts (JSONEachRow inline: the data follows FORMAT in the statement)."""
        if not rows:
            return
        write_refusal().check()   # the fault tier's hook (sink/faults.py); refuses nothing unless armed
        body = "\n".join(json.dumps(r, default=_json_default, ensure_ascii=False) for r in rows)
        self.engine.run(f"INSERT INTO {table} FORMAT JSONEachRow\n{body}")


class ServerStore:
    """The store over clickhouse-connect (a ClickHouse server, or another process's sink)."""

    def __init__(self, client):
        self.client = client

    def command(self, sql: str, parameters: dict | None = None) -> None:
        """Run a statement that returns nothing."""
        self._call(self.client.command, sql, parameters=parameters)

    def query(self, sql: str, parameters: dict | None = None) -> Result:
        """Run a SELECT."""
        result = self._call(self.client.query, sql, parameters=parameters)
        return Result(tuple(result.column_names), list(result.result_rows))

    def insert(self, table: str, rows: list[dict]) -> None:
        """Insert row dicts (columns named by the first row; every row has the same keys)."""
        if rows:
            write_refusal().check()
            columns = list(rows[0])
            self._call(self.client.insert, table, [[r[c] for c in columns] for r in rows],
                       column_names=columns)

    @staticmethod
    def _call(method, *args, **kwargs):
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

        try:
            return method(*args, **kwargs)
        except OperationalError as exc:  # connection refused/reset, timeouts
            raise ConnectionError(str(exc)) from exc
        except DatabaseError as exc:
            raise ClickHouseError(code_of(str(exc)), str(exc)) from exc
