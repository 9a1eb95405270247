"""The one client path to ClickHouse: clickhouse-connect to the server, or to the sink's engine.

Credentials: with SWITCHBOARD_CLICKHOUSE_URL, that server's own users (the URL's user and
password, else SWITCHBOARD_CLICKHOUSE_USER / _PASSWORD). For the embedded engine the sink serves
two users (sink/http.py): the roles' one (SWITCHBOARD_CLICKHOUSE_USER, default `default`, may write)
and a readonly one for analysts and Grafana (SWITCHBOARD_CLICKHOUSE_READONLY_USER, default
`readonly`). A password not set is generated once into the data directory
(`clickhouse-secret`, `clickhouse-readonly-secret`), so the processes of one machine share it.

Servers (docs/operations.md, "ClickHouse servers"): https defaults to port 8443 (http to 8123), checked
against SWITCHBOARD_CLICKHOUSE_CA_FILE unless SWITCHBOARD_CLICKHOUSE_VERIFY is off; the database is
SWITCHBOARD_CLICKHOUSE_DATABASE, else the URL's path.
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


DEFAULT_PORTS = {"http": 8123, "https": 8443}   # ClickHouse's HTTP and HTTPS interface ports


def connection(settings) -> dict:
    """clickhouse-connect's get_client arguments for settings.clickhouse_http_url() (no credentials)."""
    parts = urlparse(settings.clickhouse_http_url())
    scheme = parts.scheme or "http"
    found = {"interface": scheme, "host": parts.hostname, "port": parts.port or DEFAULT_PORTS[scheme],
             "database": settings.clickhouse_database or parts.path.strip("/") or None}
    if scheme == "https":
        found |= {"verify": settings.clickhouse_verify}
        if settings.clickhouse_ca_file:
            found["ca_cert"] = str(settings.clickhouse_ca_file)
    return found


def connect(settings, **options):
    """A clickhouse-connect client for settings.clickhouse_http_url() (NoClickHouse if none answers)."""
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import OperationalError

    url = settings.clickhouse_http_url()
    username, password = credentials(settings)
    try:
        return clickhouse_connect.get_client(
            **connection(settings), username=username, password=password,
            # Session ids would serialize concurrent queries on a server; nothing here needs one.
            autogenerate_session_id=False, connect_timeout=5, query_retries=0, **options)
    except OperationalError as exc:
        raise NoClickHouse(f"no ClickHouse answers at {mask_url(url)}: {_hint(settings, exc)}") from exc


def _hint(settings, exc: Exception) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):   # ssl.SSLCertVerificationError, wrapped by urllib3
        return ("its certificate is not signed by a CA this process trusts: set SWITCHBOARD_CLICKHOUSE_CA_FILE "
                "to the CA's PEM file")
    if settings.clickhouse_url:
        return "is the ClickHouse server up?"
    return "start `switchboard sink` (it serves the embedded engine) or set SWITCHBOARD_CLICKHOUSE_URL"
