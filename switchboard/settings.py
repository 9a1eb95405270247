"""One frozen settings object, read once from SWITCHBOARD_* environment variables (and .env)."""
from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_WINDOW_HOURS = 72.0  # the seed's threading window; deployments may only lower it


class ConfigError(ValueError):
    """Settings that cannot work together; the message names the fix."""


# SWITCHBOARD_* variables read outside the settings object, with where: test-only fault hooks and the
# soak's knobs. Known too, so they draw no warning; tests/switchboard/test_clear_errors.py checks that
# every SWITCHBOARD_ name the tree reads is a setting or listed here (SWITCHBOARD_TEST_*: the tests' own).
READ_ELSEWHERE = {
    "SWITCHBOARD_SINK_FAULT_FILE": "sink/faults.py",
    "SWITCHBOARD_DELIVER_FAULT": "connectors/faults.py",
    "SWITCHBOARD_SOAK": "Makefile soak-faults, tests/browser/test_faults_under_load.py",
    "SWITCHBOARD_SOAK_RATE": "tests/browser/test_faults_under_load.py",
}
EXEMPT_PREFIX = "SWITCHBOARD_TEST_"


class Settings(BaseSettings):
    """Everything a Switchboard process is configured with. Secrets are SecretStr (masked)."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", env_file=".env", frozen=True,
                                      extra="ignore")

    # Kafka
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # TLS (SSL, SASL_SSL): the CA that signed the brokers' certificates (else the system's), a client
    # certificate and key for brokers that require one (mutual TLS), and the hostname check.
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None
    kafka_ssl_check_hostname: bool = True
    # The local broker `switchboard kafka start` manages (ignored when you bring your own).
    kafka_port: int = Field(9092, ge=1, le=65535)
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    kafka_heap: str = "512m"

    # Avro framing: single-object encoding unless a Confluent-compatible registry is configured.
    schema_registry_url: str | None = None
    schema_registry_user: str | None = None
    schema_registry_password: SecretStr | None = None

    # ClickHouse: embedded chdb under data_dir unless a server URL is configured (then its users
    # apply). The embedded engine's HTTP interface (sink/http.py) has the roles' user, which may
    # write, and a readonly one (analysts, Grafana); a password not set is generated once into
    # data_dir (`clickhouse-secret`, `clickhouse-readonly-secret`; sink/client.py).
    clickhouse_url: str | None = None
    clickhouse_user: str = "default"
    clickhouse_password: SecretStr | None = None
    clickhouse_readonly_user: str = "readonly"
    clickhouse_readonly_password: SecretStr | None = None
    # A server (docs/operations.md, "ClickHouse servers"): its database (else the URL's path, else the
    # user's default), the CA that signed an https server's certificate (else the system's) and the
    # certificate check; a cluster name puts ON CLUSTER on every migration, and replicated makes its
    # tables Replicated*MergeTree (sink/migrations.py).
    clickhouse_database: str | None = None
    clickhouse_ca_file: Path | None = None
    clickhouse_verify: bool = True
    clickhouse_cluster: str | None = None
    clickhouse_replicated: bool = False

    # Files and processes
    data_dir: Path = PROJECT_ROOT / ".data"
    cache_dir: Path = PROJECT_ROOT / ".cache"
    accounts_file: Path = PROJECT_ROOT / "deploy" / "accounts.yaml"
    routing_dir: Path = PROJECT_ROOT / "deploy" / "routing"  # <tenant>.yaml: rules, queues, agents
    edge_host: str = "127.0.0.1"
    edge_port: int = Field(8080, ge=1, le=65535)
    # The sink owns the embedded engine and answers ClickHouse's HTTP interface here.
    sink_host: str = "127.0.0.1"
    sink_port: int = Field(8123, ge=1, le=65535)
    # The sink's ClickHouse interface over https (PEM certificate chain and its key); the roles then
    # reach it at https://sink_host:sink_port and check it against SWITCHBOARD_CLICKHOUSE_CA_FILE.
    sink_tls_cert_file: Path | None = None
    sink_tls_key_file: Path | None = None
    # The worker and deliver have no HTTP app: /metrics, /healthz and /readyz on a port of their own
    # (switchboard/observe.py); 0 takes any free port (the role's log line names it).
    worker_host: str = "127.0.0.1"
    worker_port: int = Field(8082, ge=0, le=65535)
    deliver_host: str = "127.0.0.1"
    deliver_port: int = Field(8083, ge=0, le=65535)
    # /metrics reveals every tenant's traffic: loopback callers, an admin's token, or this bearer token
    # (what Prometheus sends from another host: `authorization: credentials_file` in its scrape config).
    metrics_token: SecretStr | None = None
    threading_window_hours: float = Field(MAX_WINDOW_HOURS, gt=0)
    # Longer than any platform's redelivery period (WhatsApp retries for up to 7 days).
    dedupe_ttl_hours: float = Field(8 * 24, ge=7 * 24)
    # Delivery ledger entries older than this are forgotten (connectors/ledger.py): WhatsApp redelivers
    # for 7 days and outbound-approved keeps a week; the delivery-ledger topic's retention agrees.
    ledger_horizon_hours: float = Field(7 * 24, gt=0)
    run_seconds: float | None = Field(None, gt=0)
    # People and sessions (switchboard/auth.py, switchboard/directory.py). Without a secret, the
    # processes of one machine share a random one kept in `<data_dir>/auth-secret`; several hosts
    # must share SWITCHBOARD_AUTH_SECRET.
    auth_secret: SecretStr | None = None
    session_hours: float = Field(12, gt=0, le=24 * 7)
    people_file: Path = PROJECT_ROOT / "deploy" / "people.yaml"  # seeded into the directory
    # An agent whose page is gone this long (or who signed out) has offers revoked, conversations requeued.
    presence_grace_seconds: float = Field(60, ge=1)
    # A detected language is used (routing requires it) only at or above this confidence
    # (streams/conversations/language.py); below it the conversation gets none.
    language_confidence: float = Field(0.5, ge=0, le=1)
    # The media store (connectors/media/): a directory shared by every edge replica.
    media_dir: Path | None = None          # default <data_dir>/media
    media_max_bytes: int = Field(16 * 1024 * 1024, gt=0)
    media_url_seconds: float = Field(300, gt=0)   # life of a signed media URL given to a page
    # Where platforms fetch the media agents send (a public https URL in production).
    public_base_url: str | None = None     # default http://<edge_host>:<edge_port>
    # Where `switchboard deliver` hands agents' web messages to (any edge replica; internal is fine).
    webmessaging_edge_url: str | None = None   # default http://<edge_host>:<edge_port>
    # Platform API calls beyond loopback addresses (connectors/sending.py): off, so tests and the demo
    # can never reach the internet; a production deployment sets it.
    allow_outside_targets: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"   # json: one object per line (switchboard/logs.py)
    # Crash-window tests only: `<processor>:<produced|written>:<n>[:<key part>]` exits the worker there
    # (streams/faults.py). Never set in production.
    fault_point: str | None = None

    @model_validator(mode="after")
    def _refuse_wrong_combinations(self) -> "Settings":
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def masked(self) -> dict[str, str]:
        """Every setting as text, secrets shown as ********** and passwords in URLs as **** (safe to print or log)."""
        return {name: mask_url(str(value)) if name.endswith("_url") and value else str(value)
                for name, value in self}

    def media_path(self) -> Path:
        """Where the media store keeps its files."""
        return self.media_dir or self.data_dir / "media"

    def public_url(self) -> str:
        """The edge's public base URL (no trailing slash)."""
        return (self.public_base_url or f"http://{self.edge_host}:{self.edge_port}").rstrip("/")

    def webmessaging_url(self) -> str:
        """The edge deliver posts web messages to (no trailing slash)."""
        return (self.webmessaging_edge_url or f"http://{self.edge_host}:{self.edge_port}").rstrip("/")

    def clickhouse_http_url(self) -> str:
        """Where ClickHouse answers: the configured server, else the sink's embedded engine."""
        scheme = "https" if self.sink_tls_cert_file else "http"
        return self.clickhouse_url or f"{scheme}://{self.sink_host}:{self.sink_port}"

    def kafka_client_config(self) -> dict[str, str]:
        """librdkafka-style connection settings shared by every producer, consumer and admin."""
        conf = {"bootstrap.servers": self.kafka_bootstrap,
                "security.protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            conf |= {"sasl.mechanism": self.kafka_sasl_mechanism,
                     "sasl.username": self.kafka_sasl_username or "",
                     "sasl.password": self.kafka_sasl_password.get_secret_value()}
        if self.kafka_security_protocol.endswith("SSL"):
            files = {"ssl.ca.location": self.kafka_ssl_ca_file, "ssl.certificate.location": self.kafka_ssl_cert_file,
                     "ssl.key.location": self.kafka_ssl_key_file}
            conf |= {key: str(path) for key, path in files.items() if path}
            if self.kafka_ssl_key_password:
                conf["ssl.key.password"] = self.kafka_ssl_key_password.get_secret_value()
            conf["ssl.endpoint.identification.algorithm"] = "https" if self.kafka_ssl_check_hostname else "none"
        return conf


def _problems(s: Settings) -> list[str]:
    problems = []
    if s.threading_window_hours > MAX_WINDOW_HOURS:
        problems.append(f"threading_window_hours={s.threading_window_hours} exceeds the 72 h maximum: "
                        "set SWITCHBOARD_THREADING_WINDOW_HOURS to 72 or less")
    if s.kafka_security_protocol.startswith("SASL") and not (
            s.kafka_sasl_mechanism and s.kafka_sasl_username and s.kafka_sasl_password):
        problems.append("SASL needs credentials: set SWITCHBOARD_KAFKA_SASL_MECHANISM, "
                        "SWITCHBOARD_KAFKA_SASL_USERNAME and SWITCHBOARD_KAFKA_SASL_PASSWORD")
    if s.kafka_sasl_mechanism and not s.kafka_security_protocol.startswith("SASL"):
        problems.append("a SASL mechanism is set but the protocol is not SASL: set "
                        "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT)")
    if (s.kafka_sasl_username or s.kafka_sasl_password) and not s.kafka_security_protocol.startswith("SASL"):
        problems.append("SASL credentials are set but the protocol is not SASL: set "
                        "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT), or remove them")
    problems += _kafka_tls_problems(s)
    if (s.schema_registry_user or s.schema_registry_password) and not s.schema_registry_url:
        problems.append("schema registry credentials without a registry: set "
                        "SWITCHBOARD_SCHEMA_REGISTRY_URL or remove the credentials")
    if bool(s.schema_registry_user) != bool(s.schema_registry_password):
        problems.append("set both SWITCHBOARD_SCHEMA_REGISTRY_USER and SWITCHBOARD_SCHEMA_REGISTRY_PASSWORD, or neither")
    if s.clickhouse_readonly_password and s.clickhouse_url:
        problems.append("a readonly password is for the embedded engine only: a ClickHouse server's own "
                        "users apply (docs/security.md), so unset SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD")
    if s.clickhouse_user == s.clickhouse_readonly_user:
        problems.append("the roles' ClickHouse user and the readonly one need different names: change "
                        "SWITCHBOARD_CLICKHOUSE_USER or SWITCHBOARD_CLICKHOUSE_READONLY_USER")
    problems += _clickhouse_server_problems(s)
    if s.fault_point and not re.fullmatch(r"[\w.-]+:(produced|written):[1-9]\d*(:.+)?", s.fault_point):
        problems.append(f"fault_point={s.fault_point!r}: set SWITCHBOARD_FAULT_POINT to "
                        "<processor>:<produced|written>:<n>[:<key part>] (tests only), or unset it")
    if s.kafka_port == s.kafka_controller_port:
        problems.append("the local broker needs two ports: make SWITCHBOARD_KAFKA_PORT and "
                        "SWITCHBOARD_KAFKA_CONTROLLER_PORT differ")
    return problems


def _clickhouse_server_problems(s: Settings) -> list[str]:
    """ClickHouse settings that cannot work: server settings without a server, TLS files missing or unused."""
    problems = []
    url = urlsplit(s.clickhouse_url or "")
    if s.clickhouse_url and url.scheme not in ("http", "https"):
        problems.append(f"SWITCHBOARD_CLICKHOUSE_URL={mask_url(s.clickhouse_url)}: give an http:// or "
                        "https:// URL of ClickHouse's HTTP interface (https defaults to port 8443)")
    if not s.clickhouse_url and (s.clickhouse_database or s.clickhouse_cluster):
        problems.append("a database or cluster is for a ClickHouse server: set SWITCHBOARD_CLICKHOUSE_URL, "
                        "or unset SWITCHBOARD_CLICKHOUSE_DATABASE / SWITCHBOARD_CLICKHOUSE_CLUSTER")
    if s.clickhouse_database and url.path.strip("/") not in ("", s.clickhouse_database):
        problems.append(f"the ClickHouse URL names database {url.path.strip('/')!r} but "
                        f"SWITCHBOARD_CLICKHOUSE_DATABASE={s.clickhouse_database!r}: keep one of them")
    if s.clickhouse_replicated and not s.clickhouse_cluster:
        problems.append("replicated tables need a cluster: set SWITCHBOARD_CLICKHOUSE_CLUSTER (the name in "
                        "the server's remote_servers), or unset SWITCHBOARD_CLICKHOUSE_REPLICATED")
    if s.clickhouse_ca_file and not s.clickhouse_http_url().startswith("https://"):
        problems.append("SWITCHBOARD_CLICKHOUSE_CA_FILE is set but ClickHouse is reached over http: use an "
                        "https:// SWITCHBOARD_CLICKHOUSE_URL (or SWITCHBOARD_SINK_TLS_CERT_FILE), or unset it")
    files = {"CLICKHOUSE_CA_FILE": s.clickhouse_ca_file, "SINK_TLS_CERT_FILE": s.sink_tls_cert_file,
             "SINK_TLS_KEY_FILE": s.sink_tls_key_file}
    problems += [f"SWITCHBOARD_{name}={path}: no such file (give the path of the PEM file)"
                 for name, path in files.items() if path and not path.is_file()]
    if bool(s.sink_tls_cert_file) != bool(s.sink_tls_key_file):
        problems.append("the sink's https needs a certificate and its key: set both SWITCHBOARD_SINK_TLS_CERT_FILE "
                        "and SWITCHBOARD_SINK_TLS_KEY_FILE, or neither")
    return problems


def _kafka_tls_problems(s: Settings) -> list[str]:
    """TLS settings that cannot work: files without TLS, a certificate without its key, missing files."""
    files = {"CA_FILE": s.kafka_ssl_ca_file, "CERT_FILE": s.kafka_ssl_cert_file, "KEY_FILE": s.kafka_ssl_key_file}
    if not s.kafka_security_protocol.endswith("SSL"):
        if any(files.values()) or s.kafka_ssl_key_password:
            return ["Kafka TLS files are set but the protocol has no TLS: set "
                    "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL=SSL (or SASL_SSL), or unset SWITCHBOARD_KAFKA_SSL_*"]
        return []
    problems = [f"SWITCHBOARD_KAFKA_SSL_{name}={path}: no such file (give the path of the PEM file)"
                for name, path in files.items() if path and not path.is_file()]
    if bool(s.kafka_ssl_cert_file) != bool(s.kafka_ssl_key_file):
        problems.append("a Kafka client certificate needs its key (and the key its certificate): set both "
                        "SWITCHBOARD_KAFKA_SSL_CERT_FILE and SWITCHBOARD_KAFKA_SSL_KEY_FILE, or neither")
    if s.kafka_ssl_key_password and not s.kafka_ssl_key_file:
        problems.append("SWITCHBOARD_KAFKA_SSL_KEY_PASSWORD without a key: set SWITCHBOARD_KAFKA_SSL_KEY_FILE or unset it")
    return problems


# Query parameters that carry a credential (ClickHouse's `?password=`, tokens, keys).
_SECRET_PARAM = re.compile(r"pass|secret|token|key", re.I)


def mask_url(url: str) -> str:
    """`url` with the password of its user part and secret query parameters shown as ****."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:****@{host}"
        query = urlencode([(k, "****" if _SECRET_PARAM.search(k) else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:     # not parseable as a URL (a bad port): show nothing that might be a secret
        return "****"


def known_variables() -> set[str]:
    """Every SWITCHBOARD_* name Switchboard reads: one per setting, and READ_ELSEWHERE."""
    return {f"SWITCHBOARD_{name.upper()}" for name in Settings.model_fields} | set(READ_ELSEWHERE)


def unknown_variables(environ) -> dict[str, str | None]:
    """SWITCHBOARD_* names in `environ` that nothing reads, each with the closest known name (or None)."""
    known = known_variables()
    found = {}
    for name in environ:
        upper = name.upper()
        if upper.startswith("SWITCHBOARD_") and upper not in known and not upper.startswith(EXEMPT_PREFIX):
            found[name] = next(iter(difflib.get_close_matches(upper, known, n=1, cutoff=0.6)), None)
    return found


# The unknown names already told, kept in the environment: each is told once however often settings
# load, and once for a whole `switchboard run` (its roles inherit the environment).
TOLD = "_SWITCHBOARD_UNKNOWN_TOLD"


def _warn_unknown(environ) -> None:
    told = set(environ.get(TOLD, "").split(","))
    for name, closest in sorted(unknown_variables(environ).items()):
        if name not in told:
            told.add(name)
            hint = f"did you mean {closest}?" if closest else "`switchboard settings` shows the settings"
            print(f"switchboard: warning: {name} is not a Switchboard setting and is ignored ({hint})",
                  file=sys.stderr, flush=True)
    if told - {""}:
        environ[TOLD] = ",".join(sorted(told - {""}))


def load_settings(**overrides) -> Settings:
    """The settings from the environment (plus overrides), or ConfigError with readable reasons."""
    _warn_unknown(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        reasons = "; ".join(_reason(e) for e in exc.errors())
        raise ConfigError(f"invalid settings: {reasons}") from None


def _reason(error: dict) -> str:
    field = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"SWITCHBOARD_{field.upper()}: {message}" if field else message
