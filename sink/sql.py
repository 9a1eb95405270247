"""`switchboard sql "SELECT …"`: ask ClickHouse (the server, or the running sink's engine)."""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from datetime import date, datetime

from switchboard.settings import load_settings

from .client import NoClickHouse, connect, redact

# Statements that return rows; anything else (DDL, INSERT, OPTIMIZE…) runs as a command.
_ROWS = re.compile(r"^\s*(\(?\s*SELECT|WITH|SHOW|DESC|DESCRIBE|EXPLAIN|EXISTS)\b", re.I)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line of `switchboard sql`."""
    parser = argparse.ArgumentParser(prog="switchboard sql", description=__doc__)
    parser.add_argument("query", help='ClickHouse SQL, e.g. "SELECT count() FROM message_facts FINAL"')
    parser.add_argument("--format", choices=("table", "json", "tsv"), default="table")
    return parser.parse_args(argv)


def _text(value) -> str:
    if value is None:
        return "NULL"
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def as_table(columns: list[str], rows: list[tuple]) -> str:
    """Rows as an aligned text table with a header line."""
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """The result in the asked format: table, JSON lines or TSV."""
    if fmt == "json":
        return "\n".join(json.dumps(dict(zip(columns, r)), default=_text, ensure_ascii=False) for r in rows)
    if fmt == "tsv":
        return "\n".join(["\t".join(columns)] + ["\t".join(_text(v) for v in r) for r in rows])
    return as_table(columns, rows)


def main(argv: list[str]) -> int:
    """Entry point of `switchboard sql`."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    args = parse_args(argv)
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)  # errors are printed below
    settings = load_settings()
    try:
        client = connect(settings)
        if not _ROWS.match(args.query):
            print(client.command(args.query))
            return 0
        result = client.query(args.query)
    except NoClickHouse as exc:
        print(f"switchboard sql: error: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:   # never repeats a password (the server's text may quote the URL)
        print(f"switchboard sql: error: {redact(str(exc), settings)}", file=sys.stderr)
        return 1
    print(render(list(result.column_names), result.result_rows, args.format))
    return 0
