"""The one client path to ClickHouse: clickhouse-connect to the server, or to the sink's engine.

Credentials: with SWITCHBOARD_CLICKHOUSE_URL, that server's own users (the URL's user and
password, else SWITCHBOARD_CLICKHOUSE_USER / _PASSWORD). For the embedded engine the sink serves
two users (sink/http.py): the roles' one (SWITCHBOARD_CLICKHOUSE_USER, default `default`, may write)
and a readonly one for analysts and Grafana (SWITCHBOARD_CLICKHOUSE_READONLY_USER, default
`readonly`). A password not set is generated once into the data directory
(`clickhouse-secret`, `clickhouse-readonly-secret`), so the processes of one machine share it.
"""
from __future__ import annotations

from urllib.parse import urlparse

from switchboard.localfiles import local_secret
from switchboard.settings import mask_url


class NoClickHouse(RuntimeError):
    """Nothing answers ClickHouse's HTTP interface at the configured address."""


def credentials(settings) -> tuple[str, str]:
    """(user, password) the roles use: the server's, else the embedded engine's writer."""
    if settings.clickhouse_url:
        parts = urlparse(settings.clickhouse_url)
        password = settings.clickhouse_password.get_secret_value() if settings.clickhouse_password else ""
        return parts.username or settings.clickhouse_user, parts.password or password
    if settings.clickhouse_password:
        return settings.clickhouse_user, settings.clickhouse_password.get_secret_value()
    return settings.clickhouse_user, local_secret(settings.data_dir, "clickhouse-secret")


def readonly_credentials(settings) -> tuple[str, str]:
    """(user, password) of the embedded engine's readonly user (analysts, Grafana)."""
    password = settings.clickhouse_readonly_password
    return settings.clickhouse_readonly_user, (
        password.get_secret_value() if password else local_secret(settings.data_dir, "clickhouse-readonly-secret"))


def embedded_users(settings) -> dict[str, tuple[str, bool]]:
    """{user: (password, readonly)} the sink's ClickHouse interface accepts."""
    writer, readonly = credentials(settings), readonly_credentials(settings)
    return {writer[0]: (writer[1], False), readonly[0]: (readonly[1], True)}


def redact(text: str, settings) -> str:
    """`text` (an error message) with the ClickHouse passwords and URL credentials masked."""
    for url in filter(None, {settings.clickhouse_url, settings.clickhouse_http_url()}):
        text = text.replace(url, mask_url(url))
    secrets = [credentials(settings)[1]] if settings.clickhouse_url else []
    secrets += [s.get_secret_value() for s in (settings.clickhouse_password, settings.clickhouse_readonly_password) if s]
    for secret in filter(None, secrets):
        text = text.replace(secret, "****")
    return text


def connect(settings, **options):
    """A clickhouse-connect client for settings.clickhouse_http_url() (NoClickHouse if none answers)."""
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import OperationalError

    url = settings.clickhouse_http_url()
    parts = urlparse(url)
    username, password = credentials(settings)
    try:
        return clickhouse_connect.get_client(
            interface=parts.scheme or "http", host=parts.hostname, port=parts.port or 8123,
            username=username, password=password, database=parts.path.strip("/") or None,
            # Session ids would serialize concurrent queries on a server; nothing here needs one.
            autogenerate_session_id=False, connect_timeout=5, query_retries=0, **options)
    except OperationalError as exc:
        hint = ("is the ClickHouse server up?" if settings.clickhouse_url else
                "start `switchboard sink` (it serves the embedded engine) or set SWITCHBOARD_CLICKHOUSE_URL")
        raise NoClickHouse(f"no ClickHouse answers at {mask_url(url)}: {hint}") from exc
