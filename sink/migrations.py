"""Forward-only DDL migrations: schemas/clickhouse/NNNN_<verb>_<object>.sql, applied in order once.

Each file holds one statement. What was applied is recorded in `schema_migrations` with the
file's checksum; a changed applied file refuses the start (add a new numbered file instead).

On a cluster the same files apply: `for_target` rewrites each statement as it is run (ON CLUSTER
after the object's name, Replicated*MergeTree engines when asked), so checksums stay the file's.
Two sinks starting together take turns (`migration_lock`): the embedded engine's owner locks a file
under its data directory; a server (or another process's sink) is locked by creating a table, which
ClickHouse lets only one caller do (TABLE_ALREADY_EXISTS for the others), dropped when done.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from schemas.catalogue import CATALOGUE_FILE

from .errors import ClickHouseError
from .store import EmbeddedStore, Store

MIGRATIONS_DIR = CATALOGUE_FILE.parent / "clickhouse"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
ENGINE = ReplacingMergeTree ORDER BY version"""
LOCK = "schema_migrations_lock"
TABLE_ALREADY_EXISTS = 57
# The statement kinds a migration may hold and where ON CLUSTER goes: after the object's name.
_DDL = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|(?:MATERIALIZED\s+)?VIEW)(?:\s+IF\s+NOT\s+EXISTS)?"
                  r"|ALTER\s+TABLE|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?)\s+(?:\w+\.)?(\w+)", re.I)
_INSERT = re.compile(r"^\s*INSERT\b", re.I)   # data: a replicated table copies it to the replicas
_RENAME = re.compile(r"^\s*RENAME\s+TABLE\b", re.I)   # ON CLUSTER after the last pair of names
_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w*MergeTree)\b(?:\s*\(([^()]*)\))?", re.I)
_COMMENT = re.compile(r"'(?:[^'\\]|\\.)*'|--[^\n]*")


class MigrationError(RuntimeError):
    """The database and the migration files disagree; the message names the fix."""


@dataclass(frozen=True)
class Migration:
    """One numbered DDL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the statement: an applied migration must never change."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, in version order; refuses badly named or duplicate numbers."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: name it NNNN_<verb>_<object>.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: number {version:04d} is already {found[version].name}")
        found[version] = Migration(version, path.stem, path.read_text().strip().rstrip(";"))
    return [found[v] for v in sorted(found)]


def pending(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """The migrations not applied yet; MigrationError if an applied one changed since."""
    for m in migrations:
        if m.version in applied and applied[m.version] != m.checksum:
            raise MigrationError(f"migration {m.name} changed after it was applied: restore it and "
                                 "put the change in a new numbered file (migrations are forward-only)")
    return [m for m in migrations if m.version not in applied]


@dataclass(frozen=True)
class Target:
    """Where DDL goes: the one server (no cluster), or every host of `cluster`, tables replicated or not."""

    cluster: str | None = None
    replicated: bool = False

    @classmethod
    def from_settings(cls, settings) -> "Target":
        """SWITCHBOARD_CLICKHOUSE_CLUSTER and _REPLICATED."""
        return cls(settings.clickhouse_cluster, settings.clickhouse_replicated)


def for_target(sql: str, target: Target) -> str:
    """`sql` as run on `target`: unchanged without a cluster; else ON CLUSTER on DDL (comments dropped)
    and, if replicated, each *MergeTree engine as its Replicated one, keyed by shard and table."""
    if not target.cluster:
        return sql
    code = _COMMENT.sub(lambda m: m.group(0) if m.group(0).startswith("'") else "", sql).strip()
    if _INSERT.match(code):
        return code
    if _RENAME.match(code):
        return f"{code} ON CLUSTER `{target.cluster}`"
    head = _DDL.match(code)
    if not head:
        raise MigrationError(f"cannot run on a cluster: {code[:60]!r}… is not CREATE, ALTER or DROP of a "
                             "table or view, RENAME TABLE or INSERT (split the migration)")
    table = head.group(1)
    code = f"{code[:head.end()]} ON CLUSTER `{target.cluster}`{code[head.end():]}"
    if not target.replicated:
        return code

    def replicated(match: re.Match) -> str:
        engine, args = match.group(1), match.group(2)
        if engine.lower().startswith("replicated"):
            return match.group(0)
        path = f"'/clickhouse/tables/{{shard}}/{{database}}/{table}', '{{replica}}'"
        return f"ENGINE = Replicated{engine}({path}{', ' + args.strip() if args and args.strip() else ''})"
    return _ENGINE.sub(replicated, code)


@contextmanager
def migration_lock(store: Store, target: Target = Target(), wait: float = 600.0,
                   poll: float = 0.2) -> Iterator[None]:
    """Hold the one migration lock of `store`'s database while the block runs (MigrationError after `wait` s)."""
    if isinstance(store, EmbeddedStore):
        with _file_lock(store.engine.path / "migrations.lock"):
            yield
        return
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    create = lock_table(holder, target)
    deadline = time.monotonic() + wait
    while not _created(store, create):
        if time.monotonic() >= deadline:
            raise MigrationError(f"the migration lock is held by {_holder(store)} for over {wait:.0f} s: if no "
                                 f"sink is migrating (one stopped mid-way), run `{drop_lock(target)}` and start again")
        time.sleep(poll)
    try:
        yield
    finally:
        store.command(drop_lock(target))


def lock_table(holder: str, target: Target) -> str:
    """The statement that takes the lock on a server: only one caller can create the table."""
    return for_target(f"CREATE TABLE {LOCK} (holder String) ENGINE = Memory COMMENT '{holder}'", target)


def _created(store: Store, create: str) -> bool:
    try:
        store.command(create)
        return True
    except ClickHouseError as exc:   # a cluster's DDL queue reports the hosts' errors in its text
        if exc.code == TABLE_ALREADY_EXISTS or "TABLE_ALREADY_EXISTS" in str(exc):
            return False
        raise


def _holder(store: Store) -> str:
    rows = store.query("SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = "
                       "{name:String}", {"name": LOCK}).result_rows
    return rows[0][0] if rows else "a process that has just released it"


def drop_lock(target: Target) -> str:
    """The statement that releases the lock (and the fix for one a killed process left)."""
    return for_target(f"DROP TABLE IF EXISTS {LOCK} SYNC", target)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `path`: threads and processes wait their turn; the system frees it on exit."""
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def migrate(store: Store, directory: Path = MIGRATIONS_DIR, target: Target = Target(),
            lock_wait: float = 600.0) -> list[str]:
    """Apply what is pending, in order, recording each, under the migration lock; the names applied now."""
    with migration_lock(store, target, lock_wait):
        return _apply(store, load_migrations(directory), target)


def _apply(store: Store, migrations: list[Migration], target: Target) -> list[str]:
    store.command(for_target(LEDGER, target))
    rows = store.query("SELECT version, checksum FROM schema_migrations FINAL").result_rows
    todo = pending(migrations, {int(v): c for v, c in rows})
    for m in todo:
        store.command(for_target(m.sql, target))
        store.insert("schema_migrations", [{"version": m.version, "name": m.name,
                                            "checksum": m.checksum,
                                            "applied_at": datetime.now(timezone.utc)}])
    return [m.name for m in todo]
