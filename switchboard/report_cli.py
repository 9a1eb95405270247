"""`switchboard report <view> …`: a report view (sink/views) in the terminal, as CSV or as JSON.

It reads ClickHouse directly as the readonly user (the running sink's engine, or the configured
server with the roles' user), scoped to `--tenant` (default: the demo's), so no token is typed;
the report API (docs/reports.md) is the signed-in way to the same SQL.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

DEMO_TENANT = "acme"   # deploy/people.yaml
FILTERS = ("queue", "agent", "channel", "media_type", "wrapup_code", "direction")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line of `switchboard report`."""
    parser = argparse.ArgumentParser(prog="switchboard report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("view", nargs="?", help="a view's name; none: list the views")
    parser.add_argument("--tenant", default=DEMO_TENANT)
    for name, example in [("from", "2026-12-01 or 2026-12-01T07:00:00Z (default: local midnight)"),
                          ("to", "ISO date-time (default: now)"), ("now", "my_queues_activity's instant (default: now)"),
                          ("granularity", "15m, 30m, 60m or day"), ("tz", "IANA zone, e.g. Europe/Paris"),
                          ("conversation", "the interaction view's conversation id"), ("limit", "rows at most")]:
        parser.add_argument(f"--{name}", help=example)
    for name in FILTERS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, action="append", metavar="VALUE",
                            help="repeat for several (any of them)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="CSV with a header row")
    out.add_argument("--json", action="store_true", help='{"view", "columns", "rows"}')
    return parser.parse_args(argv)


def given(args: argparse.Namespace) -> dict[str, list[str]]:
    """The options given, as the report API's query string would carry them."""
    single = ("from", "to", "now", "granularity", "tz", "conversation", "limit")
    found = {name: [getattr(args, name)] for name in single if getattr(args, name) is not None}
    return found | {name: getattr(args, name) for name in FILTERS if getattr(args, name)}


def client_for(settings):
    """The readonly user of the sink's engine; with a server configured, its own (roles') user."""
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import OperationalError

    from sink.client import NoClickHouse, connect, readonly_credentials

    if settings.clickhouse_url:
        return connect(settings)
    user, password = readonly_credentials(settings)
    try:
        return clickhouse_connect.get_client(dsn=settings.clickhouse_http_url(), username=user, password=password,
                                             autogenerate_session_id=False, connect_timeout=5, query_retries=0)
    except OperationalError as exc:
        raise NoClickHouse(f"no ClickHouse answers at {settings.clickhouse_http_url()}: start `switchboard sink` "
                           "(or `make run`), or set SWITCHBOARD_CLICKHOUSE_URL") from exc


def render(name: str, names: list[str], rows: list[tuple], args) -> str:
    """The result as a table, CSV or JSON."""
    from sink.report_routes import as_csv, value
    from sink.sql import as_table

    if args.csv:
        return as_csv(names, rows).rstrip("\r\n")
    if args.json:
        return json.dumps({"view": name, "columns": names, "rows": [[value(v) for v in r] for r in rows]},
                          ensure_ascii=False)
    cells = [[round(v, 2) if isinstance(v, float) else ", ".join(v) if isinstance(v, list) else value(v) for v in r]
             for r in rows]
    return as_table(names, cells)


def listing() -> str:
    """Each view with its title and parameters."""
    from sink.views import views

    return "\n".join(f"{v.name:20} {v.title}\n{'':20} parameters: {', '.join(v.parameters)}" for v in views().values())


def main(argv: list[str]) -> int:
    """Entry point of `switchboard report`."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    from sink.client import NoClickHouse, redact
    from sink.report_params import bind
    from sink.views import BadParameter, run, view
    from switchboard.settings import load_settings

    args = parse_args(argv)
    if not args.view:
        print(listing())
        return 0
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)   # errors are printed below
    settings = load_settings()
    try:
        v = view(args.view)
        params = bind(v, args.tenant, given(args))
        names, rows = run(client_for(settings), v, params)
    except (BadParameter, NoClickHouse) as exc:
        print(f"switchboard report: error: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:   # never repeats a password (the server's text may quote the URL)
        print(f"switchboard report: error: {redact(str(exc), settings).splitlines()[0]}", file=sys.stderr)
        return 1
    print(render(v.name, names, rows, args))
    return 0
