"""ClickHouse's HTTP interface in front of chdb, spoken to by clickhouse-connect and plain HTTP."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import lz4.frame
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from sink.http import decompress, output_format, split_request

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


def test_errors_carry_clickhouse_codes(clickhouse_client, clickhouse_url):
    with pytest.raises(DatabaseError, match="Code: 60"):
        clickhouse_client.query("SELECT * FROM no_such_table")
    request = urllib.request.Request(clickhouse_url + "/?query=" + urllib.parse.quote("SELEKT 1"))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 500
    assert caught.value.headers["X-ClickHouse-Exception-Code"] == "62"  # SYNTAX_ERROR
    assert caught.value.read().decode().startswith("Code: 62. DB::Exception:")


def test_curl_style_queries_and_inserts_in_text_formats(clickhouse_url, tenant):
    def post(sql: str, body: bytes = b"") -> bytes:
        url = clickhouse_url + "/?query=" + urllib.parse.quote(sql)
        with urllib.request.urlopen(urllib.request.Request(url, data=body or None), timeout=5) as response:
            return response.read()

    table = f"curl_{tenant.replace('-', '_')}"
    post(f"CREATE TABLE {table} (a UInt8, b String) ENGINE = MergeTree ORDER BY a")
    post(f"INSERT INTO {table} FORMAT JSONEachRow", b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    lines = post(f"SELECT a, b FROM {table} ORDER BY a FORMAT JSONEachRow").decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert post(f"SELECT count() FROM {table}") == b"2\n"
    with urllib.request.urlopen(clickhouse_url + "/ping", timeout=5) as response:
        assert response.read() == b"Ok.\n"
