"""The facts sink: every fact-bearing topic into ClickHouse, and the report API beside it.

`switchboard sink` owns the embedded engine (chdb) and answers ClickHouse's own HTTP interface, so
every client uses clickhouse-connect; with SWITCHBOARD_CLICKHOUSE_URL it writes to that server.
"""
