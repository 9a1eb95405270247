"""ClickHouse's own HTTP interface in front of the embedded engine (the part clients use).

clickhouse-connect, Grafana's ClickHouse datasource and curl talk to it as to a server
(https://clickhouse.com/docs/interfaces/http): the query in the `query` URL parameter and/or the
body, data for an INSERT after the query, `param_<name>` for `{name:Type}` parameters, the output
format from the query's FORMAT clause (else `default_format`, else TabSeparated), errors as HTTP
500 with `X-ClickHouse-Exception-Code` and a `Code: N. DB::Exception: …` body.
"""
from __future__ import annotations

import asyncio
import json
import re

import lz4.frame
from aiohttp import web

from .embedded import EmbeddedClickHouse
from .errors import ClickHouseError

MAX_BODY = 1 << 30  # aiohttp's 1 MiB default refuses a large insert batch
# `INSERT INTO t (cols) FORMAT Fmt` then the data (after one newline or space), ClickHouse syntax.
_INSERT = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)[ \t]*\r?\n?", re.I | re.S)
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
ENGINE = web.AppKey("engine", EmbeddedClickHouse)


def decompress(body: bytes, encoding: str) -> bytes:
    """The request body without its Content-Encoding (lz4 may be several concatenated frames)."""
    if encoding != "lz4":
        return body  # aiohttp already undoes gzip/deflate/br
    out, rest = [], body
    while rest:
        decompressor = lz4.frame.LZ4FrameDecompressor()
        out.append(decompressor.decompress(rest))
        rest = decompressor.unused_data
    return b"".join(out)


def split_request(url_query: str, body: bytes) -> tuple[str, bytes]:
    """(statement, insert data): the URL's query is followed by the body, as the server does."""
    if url_query:
        if _INSERT.match(url_query.encode()):
            return url_query, body
        return url_query + (" " + body.decode() if body.strip() else ""), b""
    match = _INSERT.match(body)
    if not match:
        return body.decode(), b""
    return match.group(0).decode().strip(), body[match.end():]


def output_format(sql: str, default: str) -> tuple[str, str]:
    """(statement without its FORMAT clause, format): chdb is then asked for that format."""
    match = _FORMAT.search(sql)
    if not match:
        return sql.rstrip().rstrip(";"), default
    return sql[:match.start()].rstrip(), match.group(1)


def execute(engine: EmbeddedClickHouse, sql: str, data: bytes, params: dict, default_fmt: str):
    """Run one request's statement; (output bytes, format)."""
    insert = _INSERT.match(sql.encode())
    if insert:
        head, fmt = insert.group(1).decode(), insert.group(2).decode()
        rest = sql.encode()[insert.end():]
        if fmt.lower() == "native" or data:
            engine.insert_file(head, rest + data, fmt)
        else:
            engine.run(sql, params=params)  # inline text data, e.g. JSONEachRow from curl
        return b"", fmt
    statement, fmt = output_format(sql, default_fmt)
    return engine.run(statement, fmt, params), fmt


async def handle(request: web.Request) -> web.Response:
    """One ClickHouse HTTP request (GET or POST on /)."""
    engine = request.app[ENGINE]
    body = decompress(await request.read(), request.headers.get("Content-Encoding", ""))
    args = request.query
    params = {k.removeprefix("param_"): v for k, v in args.items() if k.startswith("param_")}
    try:
        sql, data = split_request(args.get("query", ""), body)
        out, fmt = await asyncio.to_thread(execute, engine, sql, data, params,
                                           args.get("default_format", "TabSeparated"))
    except ClickHouseError as exc:
        return _error(exc.code, str(exc))
    except UnicodeDecodeError:
        return _error(27, "Code: 27. DB::Exception: the query is not valid UTF-8")
    headers = {"X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC",
               "X-ClickHouse-Summary": json.dumps({"read_rows": "0"})}
    return web.Response(body=out, headers=headers, content_type=_content_type(fmt))


def _error(code: int, message: str) -> web.Response:
    if not message.startswith("Code:"):
        message = f"Code: {code}. DB::Exception: {message}"
    return web.Response(status=500, text=message + "\n",
                        headers={"X-ClickHouse-Exception-Code": str(code)})


def _content_type(fmt: str) -> str:
    if fmt.startswith("JSON"):
        return "application/json"
    if fmt.startswith(("TSV", "TabSeparated")):
        return "text/tab-separated-values"
    return "application/octet-stream"


async def ping(request: web.Request) -> web.Response:
    """Liveness, as ClickHouse answers it."""
    return web.Response(text="Ok.\n")


def clickhouse_routes(app: web.Application, engine: EmbeddedClickHouse) -> None:
    """Mount the ClickHouse HTTP interface on `app` (at / and /ping)."""
    app[ENGINE] = engine
    app.router.add_get("/ping", ping)
    app.router.add_route("GET", "/", handle)
    app.router.add_route("POST", "/", handle)
