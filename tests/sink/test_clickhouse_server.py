"""ClickHouse servers: https and database settings, migrations for a cluster, the migration lock.

No ClickHouse server installs here (Debian's is 18.16): the cluster DDL is checked by the engine's own
parser (chdb's formatQuery), https against the sink's own ClickHouse interface with certificates made
here, and the migration lock against the embedded engine and its interface (docs/operations.md).
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sink.client import NoClickHouse, connect, connection
from sink.http import clickhouse_routes, server_tls
from sink.migrations import (LEDGER, LOCK, MIGRATIONS_DIR, MigrationError, Target, drop_lock, for_target, lock_table,
                             load_migrations, migration_lock)
from sink.store import ServerStore
from switchboard.errors import UserError
from switchboard.settings import ConfigError, load_settings
from tests.clickhouse_fixture import ENV, USERS, WRITER, open_store, server_settings, serving

pytestmark = pytest.mark.clickhouse
REPO = Path(__file__).resolve().parents[2]
CLUSTER = Target("switchboard", replicated=True)


def settings(**values):
    """Settings of these tests: the writer of the fixture's interface, nothing from the environment's ClickHouse."""
    return load_settings(clickhouse_user=WRITER[0], clickhouse_password=WRITER[1], **values)


# --- https, port, database -------------------------------------------------------------------------

@pytest.mark.parametrize("url, database, port, expected_db", [
    ("https://ch.example.com", None, 8443, None),
    ("http://ch.example.com", None, 8123, None),
    ("https://ch.example.com:9443/facts", None, 9443, "facts"),
    ("https://ch.example.com", "facts", 8443, "facts"),
])
def test_https_urls_default_to_8443_and_the_database_comes_from_the_setting_or_the_path(url, database, port,
                                                                                         expected_db):
    found = connection(settings(clickhouse_url=url, clickhouse_database=database))
    assert (found["interface"], found["port"], found["database"]) == (url.split(":")[0], port, expected_db)
    assert found.get("verify") == (True if url.startswith("https") else None)


@pytest.mark.parametrize("values, fix", [
    ({"clickhouse_database": "facts"}, "set SWITCHBOARD_CLICKHOUSE_URL"),
    ({"clickhouse_url": "https://ch:8443", "clickhouse_replicated": True}, "set SWITCHBOARD_CLICKHOUSE_CLUSTER"),
    ({"clickhouse_url": "http://ch:8123", "clickhouse_ca_file": __file__}, "use an https://"),
    ({"clickhouse_url": "https://ch/a", "clickhouse_database": "b"}, "keep one of them"),
    ({"clickhouse_url": "tcp://ch:9000"}, "give an http:// or https:// URL"),
    ({"sink_tls_cert_file": __file__}, "set both SWITCHBOARD_SINK_TLS_CERT_FILE"),
])
def test_server_settings_that_cannot_work_are_one_line_naming_the_fix(values, fix):
    with pytest.raises(ConfigError, match=fix) as caught:
        settings(**values)
    assert "\n" not in str(caught.value)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A test CA, the interface's certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    out = tmp_path_factory.mktemp("tls")
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    files = {"ca": out / "ca.pem", "other": out / "other-ca.pem", "cert": out / "sink.pem", "key": out / "sink-key.pem"}
    files["ca"].write_bytes(_pem(_certificate("Switchboard test CA", ca_key, "Switchboard test CA", ca_key, True)))
    files["other"].write_bytes(_pem(_certificate("Someone else's CA", other_key, "Someone else's CA", other_key, True)))
    files["cert"].write_bytes(_pem(_certificate("127.0.0.1", server_key, "Switchboard test CA", ca_key, False)))
    files["key"].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return files


@pytest.fixture(scope="module")
def https_url(clickhouse_store, tls_files) -> str:
    """The sink's ClickHouse interface over https (sink.http.server_tls) on the session's engine."""
    app = web.Application()
    clickhouse_routes(app, clickhouse_store.engine, USERS)
    with serving(app, server_tls(tls_files["cert"], tls_files["key"])) as url:
        yield url


def test_https_verifies_the_interfaces_certificate_against_the_ca_file(https_url, tls_files):
    store = ServerStore(connect(settings(clickhouse_url=https_url, clickhouse_ca_file=tls_files["ca"])))
    assert store.query("SELECT count() FROM schema_migrations FINAL").result_rows == [(len(load_migrations()),)]
    assert store.client.url.startswith("https://127.0.0.1:")


def test_a_certificate_from_an_unknown_ca_is_one_line_naming_the_ca_file(https_url, tls_files):
    with pytest.raises(NoClickHouse, match="not signed by a CA this process trusts: set "
                                           "SWITCHBOARD_CLICKHOUSE_CA_FILE") as caught:
        connect(settings(clickhouse_url=https_url, clickhouse_ca_file=tls_files["other"]))
    assert "\n" not in str(caught.value) and https_url in str(caught.value)


def test_serving_https_with_files_that_are_no_certificate_is_one_line(tls_files):
    with pytest.raises(UserError, match="SWITCHBOARD_SINK_TLS_CERT_FILE / _KEY_FILE") as caught:
        server_tls(tls_files["key"], tls_files["cert"])    # swapped: the key is no certificate
    assert "\n" not in str(caught.value)


# --- migrations for a cluster ------------------------------------------------------------------------

def _formatted(store, sql: str) -> str:
    """The statement as the engine's own parser reads it (a syntax error raises)."""
    literal = "'" + sql.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return store.query(f"SELECT formatQuery({literal})").result_rows[0][0]


def test_every_migration_parses_for_a_cluster_with_on_cluster_and_replicated_engines(clickhouse_store):
    statements = {m.name: m.sql for m in load_migrations()} | {"ledger": LEDGER}
    engines = 0
    for name, sql in statements.items():
        text = _formatted(clickhouse_store, for_target(sql, CLUSTER))
        if text.startswith("INSERT"):   # data: the replicated table copies it
            assert _formatted(clickhouse_store, sql) == text, name
            continue
        assert " ON CLUSTER switchboard" in text.splitlines()[0], name
        for engine in (line for line in text.splitlines() if line.startswith("ENGINE")):
            engines += 1
            table = text.split(" ON CLUSTER")[0].split()[-1]
            assert engine.startswith("ENGINE = Replicated") and \
                f"('/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'" in engine, name
    assert engines == 1 + sum("ENGINE" in m.sql for m in load_migrations())
    for lock in (lock_table("sink-a:1:abcd", CLUSTER), drop_lock(CLUSTER)):   # the lock's own DDL
        assert " ON CLUSTER switchboard" in _formatted(clickhouse_store, lock)
    segment = _formatted(clickhouse_store, for_target(load_migrations()[3].sql, CLUSTER))
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/segment_facts', '{replica}', version)" \
        in segment   # the version column stays the engine's


def test_a_cluster_without_replication_keeps_the_engines_and_no_cluster_keeps_the_text(clickhouse_store):
    for m in load_migrations():
        assert for_target(m.sql, Target()) == m.sql
        text = _formatted(clickhouse_store, for_target(m.sql, Target("switchboard")))
        assert "Replicated" not in text and (text.startswith("INSERT") or "ON CLUSTER switchboard" in text)


def test_a_statement_a_cluster_cannot_take_is_refused():
    with pytest.raises(MigrationError, match="split the migration"):
        for_target("OPTIMIZE TABLE segment_facts FINAL", CLUSTER)


# --- the migration lock ------------------------------------------------------------------------------

RACE = """
import json, sys, threading
from pathlib import Path
from aiohttp import web
from sink.client import connect
from sink.embedded import EmbeddedClickHouse
from sink.http import clickhouse_routes
from sink.migrations import migrate
from sink.store import EmbeddedStore, ServerStore
from switchboard.settings import load_settings
from tests.clickhouse_fixture import USERS, WRITER, serving

engine, first, second = EmbeddedClickHouse(Path(sys.argv[1])), Path(sys.argv[2]), Path(sys.argv[3])
embedded = EmbeddedStore(engine)

def race(make_store, directory):
    applied, start = [], threading.Barrier(2)
    def run(store):
        start.wait()
        applied.append(migrate(store, directory, lock_wait=30))
    threads = [threading.Thread(target=run, args=(make_store(),)) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join(60)
    return applied

result = {"embedded": race(lambda: embedded, first)}   # two threads of the engine's owner: the file lock
app = web.Application()
clickhouse_routes(app, engine, USERS)
with serving(app) as url:                              # two clients of its interface: the lock table
    conf = load_settings(clickhouse_url=url, clickhouse_user=WRITER[0], clickhouse_password=WRITER[1])
    result["server"] = race(lambda: ServerStore(connect(conf)), second)
counts = embedded.query("SELECT version, count() FROM schema_migrations GROUP BY version").result_rows
result |= {"counts": sorted(c for _, c in counts),
           "lock_left": embedded.query("EXISTS TABLE schema_migrations_lock").result_rows[0][0]}
print(json.dumps(result))
engine.close()
"""


def _release(directory: Path, files: list[Path]) -> Path:
    directory.mkdir()
    for path in files:
        (directory / path.name).write_text(path.read_text())
    return directory


def test_two_migrations_started_together_apply_each_migration_once(tmp_path):
    # A first release, then a second that adds migrations; each started by two migrations at once.
    # A fresh engine needs its own process (chdb: one per process).
    files = sorted(MIGRATIONS_DIR.glob("*.sql"))[:14]
    first, second = _release(tmp_path / "first", files[:8]), _release(tmp_path / "second", files)
    run = subprocess.run([sys.executable, "-c", RACE, str(tmp_path / "ch"), str(first), str(second)], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    names = [path.stem for path in files]
    assert sorted(result["embedded"], key=len) == [[], names[:8]]     # both finished, one did it all
    assert sorted(result["server"], key=len) == [[], names[8:]]
    assert result["counts"] == [1] * len(names)                        # each recorded once
    assert result["lock_left"] == 0


@pytest.fixture
def interface_store(clickhouse_url):
    """A store over the fixture's ClickHouse interface, as another process's migrations see it."""
    store = ServerStore(connect(settings(clickhouse_url=clickhouse_url)))
    yield store
    store.command(f"DROP TABLE IF EXISTS {LOCK}")
    store.client.close()


def test_a_lock_still_held_after_the_wait_names_its_holder_and_how_to_free_it(interface_store):
    interface_store.command(f"CREATE TABLE {LOCK} (holder String) ENGINE = Memory COMMENT 'sink-b:4242:0f0f'")
    with pytest.raises(MigrationError, match=r"held by sink-b:4242:0f0f .*run `DROP TABLE IF EXISTS "
                                             r"schema_migrations_lock SYNC`") as caught:
        with migration_lock(interface_store, wait=0.15, poll=0.05):
            pass
    assert "\n" not in str(caught.value)


def test_the_lock_table_is_dropped_when_the_migrations_are_done(interface_store):
    with migration_lock(interface_store):
        assert interface_store.query(f"EXISTS TABLE {LOCK}").result_rows == [(1,)]
    assert interface_store.query(f"EXISTS TABLE {LOCK}").result_rows == [(0,)]


# --- the ClickHouse tier against a server ------------------------------------------------------------

def test_the_fixtures_server_branch_opens_and_migrates_the_server_the_variable_names(clickhouse_url, tmp_path):
    assert server_settings({}) is None
    host = clickhouse_url.removeprefix("http://")
    store, close = open_store({ENV: f"http://{WRITER[0]}:{WRITER[1]}@{host}"}, tmp_path / "unused")
    try:
        assert isinstance(store, ServerStore)
        assert store.query("SELECT count() FROM schema_migrations FINAL").result_rows == [(len(load_migrations()),)]
        assert store.query(f"EXISTS TABLE {LOCK}").result_rows == [(0,)]   # it migrated under the lock
    finally:
        close()
    assert not (tmp_path / "unused").exists()   # no embedded engine was opened
