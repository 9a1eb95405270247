"""The one client path to ClickHouse: clickhouse-connect to the server, or to the sink's engine."""
from __future__ import annotations

from urllib.parse import urlparse


class NoClickHouse(RuntimeError):
    """Nothing answers ClickHouse's HTTP interface at the configured address."""


def connect(settings, **options):
    """A clickhouse-connect client for settings.clickhouse_http_url() (NoClickHouse if none answers)."""
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import OperationalError

    url = settings.clickhouse_http_url()
    parts = urlparse(url)
    secret = settings.clickhouse_password.get_secret_value() if settings.clickhouse_password else ""
    try:
        return clickhouse_connect.get_client(
            interface=parts.scheme or "http", host=parts.hostname, port=parts.port or 8123,
            username=parts.username or settings.clickhouse_user, password=parts.password or secret,
            database=parts.path.strip("/") or None,
            # Session ids would serialize concurrent queries on a server; nothing here needs one.
            autogenerate_session_id=False, connect_timeout=5, query_retries=0, **options)
    except OperationalError as exc:
        hint = ("is the ClickHouse server up?" if settings.clickhouse_url else
                "start `switchboard sink` (it serves the embedded engine) or set SWITCHBOARD_CLICKHOUSE_URL")
        raise NoClickHouse(f"no ClickHouse answers at {url}: {hint}") from exc
