"""ClickHouse's own HTTP interface in front of the embedded engine (the part clients use).

clickhouse-connect, Grafana's ClickHouse datasource and curl talk to it as to a server
(https://clickhouse.com/docs/interfaces/http): the query in the `query` URL parameter and/or the
body, data for an INSERT after the query, `param_<name>` for `{name:Type}` parameters, the output
format from the query's FORMAT clause (else `default_format`, else TabSeparated), errors as HTTP
500 with `X-ClickHouse-Exception-Code` and a `Code: N. DB::Exception: …` body.

Doors (docs/security.md): every query names a user and its password, as ClickHouse takes them —
HTTP basic auth (what clickhouse-connect and Grafana send), the X-ClickHouse-User / -Key headers,
or the `user` / `password` URL parameters; anonymous callers and wrong passwords get 401. A
readonly user gets ClickHouse's `readonly` semantics: only SELECT / SHOW / DESCRIBE / EXISTS /
EXPLAIN / WITH … SELECT, no settings but `max_execution_time`. For everyone, one statement per
request (chdb would run several) and nothing that reaches outside the engine's own tables: table
functions, engines and dictionary sources over files, URLs, other servers or programs, INTO OUTFILE.
Other URL parameters (ClickHouse settings) are not applied by this interface, so they change nothing.
Over https when given a certificate (server_tls: the aiohttp site's ssl_context), like a server's 8443.
"""
from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import ssl
from pathlib import Path

import lz4.frame
from aiohttp import web

from switchboard.errors import UserError

from .embedded import EmbeddedClickHouse
from .errors import ClickHouseError

MAX_BODY = 1 << 30  # aiohttp's 1 MiB default refuses a large insert batch
# `INSERT INTO t (cols) FORMAT Fmt` then the data (after one newline or space), ClickHouse syntax.
_INSERT = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)[ \t]*\r?\n?", re.I | re.S)
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
ENGINE = web.AppKey("engine", EmbeddedClickHouse)
USERS = web.AppKey("users", dict)   # {user: (password, readonly)}

# Statements a readonly user may run (ClickHouse's readonly=1), and the one setting it may change.
READONLY_STATEMENTS = {"SELECT", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "WITH"}
READONLY_SETTINGS = {"max_execution_time"}
# Table functions, table engines and dictionary sources that read or write outside the engine's
# own tables (https://clickhouse.com/docs/sql-reference/table-functions), chdb's Python() (the
# sink's own memory) included: refused for every user, matched as `name(` outside literals.
OUTSIDE = {name.lower() for name in (
    "file", "fileCluster", "url", "urlCluster", "http", "s3", "s3Cluster", "gcs", "oss", "cosn",
    "azureBlobStorage", "azureBlobStorageCluster", "hdfs", "hdfsCluster", "remote", "remoteSecure",
    "cluster", "clusterAllReplicas", "distributed", "externalDistributed", "mysql", "MaterializedMySQL",
    "postgresql", "MaterializedPostgreSQL", "mongodb", "redis", "sqlite", "jdbc", "odbc", "input",
    "executable", "executablePool", "iceberg", "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal",
    "deltaLake", "hudi", "kafka", "rabbitmq", "nats", "arrowFlight", "python", "disk", "ytsaurus")}
_OUTSIDE_CALL = re.compile(r"\b(" + "|".join(sorted(OUTSIDE, key=len, reverse=True)) + r")\s*\(", re.I)
_OUTFILE = re.compile(r"\bINTO\s+OUTFILE\b|\bFROM\s+INFILE\b|^\s*(BACKUP|RESTORE)\b", re.I)
# One lexical token of ClickHouse SQL that is not code: a string, a quoted identifier, a heredoc, a comment.
_TOKEN = re.compile(r"""'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`"""
                    r"""|(\$\w*\$).*?\1|--[^\n]*|\#[^\n]*|/\*.*?\*/|['"`$#]|/\*""", re.S)


class Refused(Exception):
    """A request this interface does not run: (HTTP status, ClickHouse code, message)."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code = status, code


def code_only(sql: str) -> str:
    """`sql` with literals emptied, comments blanked and quoted identifiers unquoted (what to inspect)."""
    def replace(match: re.Match) -> str:
        text = match.group(0)
        if text[0] in "`\"" and len(text) > 1:
            return re.sub(r"\W", "_", text[1:-1])    # `file`(…) is still a call of file
        if text[0] in "'$" and len(text) > 1:
            return "''"
        if text.startswith(("--", "#", "/*")) and text not in ("#", "/*"):
            return " "
        raise Refused(400, 62, f"Syntax error: unterminated {text!r} in the query")
    return _TOKEN.sub(replace, sql)


def check(sql: str, readonly: bool) -> None:
    """Refused unless `sql` is one statement this user may run here."""
    code = code_only(sql)
    if ";" in code.rstrip().rstrip(";"):
        raise Refused(400, 62, "Syntax error (Multi-statements are not allowed)")
    outside = _OUTSIDE_CALL.search(code)
    if outside or _OUTFILE.search(code):
        what = f"{outside.group(1)}()" if outside else "reading or writing files"
        raise Refused(403, 446, f"{what} is not allowed through this interface (it reaches outside "
                                "the engine's tables). (FUNCTION_NOT_ALLOWED)")
    if not readonly:
        return
    first = re.match(r"[\s(]*(\w*)", code).group(1).upper()
    changed = {name.lower() for tail in re.findall(r"\bSETTINGS\b(.*)", code, re.I | re.S)
               for name in re.findall(r"(\w+)\s*=", tail)}
    if first not in READONLY_STATEMENTS:
        raise Refused(403, 164, f"Cannot execute query in readonly mode ({first or 'empty'}). (READONLY)")
    if changed - READONLY_SETTINGS:
        raise Refused(403, 164, f"Cannot modify settings {sorted(changed - READONLY_SETTINGS)} in "
                                "readonly mode (only max_execution_time). (READONLY)")


def caller(request: web.Request) -> tuple[str, str] | None:
    """(user, password) as ClickHouse takes them: basic auth, X-ClickHouse-User/-Key, or ?user=&password=."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password
    if "X-ClickHouse-User" in request.headers:
        return request.headers["X-ClickHouse-User"], request.headers.get("X-ClickHouse-Key", "")
    if "user" in request.query:
        return request.query["user"], request.query.get("password", "")
    return None


def authenticate(users: dict[str, tuple[str, bool]], given: tuple[str, str] | None) -> bool:
    """Whether the caller is a user with its password (readonly or not); Refused 401 otherwise."""
    user, password = given or ("", "")
    expected, readonly = users.get(user, ("\0" * 24, True))   # unknown users cost the same compare
    if not (given and user in users and hmac.compare_digest(password.encode(), expected.encode())):
        raise Refused(401, 516, f"{user or 'anonymous'}: Authentication failed: password is incorrect, "
                                "or there is no user with such name. (AUTHENTICATION_FAILED)")
    return readonly


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


def execute(engine: EmbeddedClickHouse, sql: str, data: bytes, params: dict, default_fmt: str,
            readonly: bool = False):
    """Run one request's statement if this user may (else Refused); (output bytes, format)."""
    insert = _INSERT.match(sql.encode())
    check(insert.group(1).decode() if insert else sql, readonly)   # an insert's data is not SQL
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
    try:
        readonly = authenticate(request.app[USERS], caller(request))
    except Refused as exc:
        return _error(exc.code, str(exc), exc.status)
    body = decompress(await request.read(), request.headers.get("Content-Encoding", ""))
    args = request.query
    params = {k.removeprefix("param_"): v for k, v in args.items() if k.startswith("param_")}
    try:
        sql, data = split_request(args.get("query", ""), body)
        out, fmt = await asyncio.to_thread(execute, engine, sql, data, params,
                                           args.get("default_format", "TabSeparated"), readonly)
    except Refused as exc:
        return _error(exc.code, str(exc), exc.status)
    except ClickHouseError as exc:
        return _error(exc.code, str(exc))
    except UnicodeDecodeError:
        return _error(27, "Code: 27. DB::Exception: the query is not valid UTF-8")
    headers = {"X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC",
               "X-ClickHouse-Summary": json.dumps({"read_rows": "0"})}
    return web.Response(body=out, headers=headers, content_type=_content_type(fmt))


def _error(code: int, message: str, status: int = 500) -> web.Response:
    if not message.startswith("Code:"):
        message = f"Code: {code}. DB::Exception: {message}"
    headers = {"X-ClickHouse-Exception-Code": str(code)}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="ClickHouse"'
    return web.Response(status=status, text=message + "\n", headers=headers)


def _content_type(fmt: str) -> str:
    if fmt.startswith("JSON"):
        return "application/json"
    if fmt.startswith(("TSV", "TabSeparated")):
        return "text/tab-separated-values"
    return "application/octet-stream"


async def ping(request: web.Request) -> web.Response:
    """Liveness, as ClickHouse answers it."""
    return web.Response(text="Ok.\n")


def clickhouse_routes(app: web.Application, engine: EmbeddedClickHouse,
                      users: dict[str, tuple[str, bool]]) -> None:
    """Mount the ClickHouse HTTP interface on `app` (at / and /ping), for `users` {name: (password, readonly)}."""
    if not users or not all(password for password, _ in users.values()):
        raise ValueError("every ClickHouse user needs a password (sink.client.embedded_users)")
    app[ENGINE], app[USERS] = engine, users
    app.router.add_get("/ping", ping)
    app.router.add_route("GET", "/", handle)
    app.router.add_route("POST", "/", handle)


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """The ssl_context of the interface's aiohttp site: https with this PEM certificate chain and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"cannot serve https with {cert_file} and {key_file}: {exc.strerror or exc} — set "
                        "SWITCHBOARD_SINK_TLS_CERT_FILE / _KEY_FILE to a PEM certificate and its own key") from None
    return context
