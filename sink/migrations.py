"""Forward-only DDL migrations: schemas/clickhouse/NNNN_<verb>_<object>.sql, applied in order once.

Each file holds one statement. What was applied is recorded in `schema_migrations` with the
file's checksum; a changed applied file refuses the start (add a new numbered file instead).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from schemas.catalogue import CATALOGUE_FILE

from .store import Store

MIGRATIONS_DIR = CATALOGUE_FILE.parent / "clickhouse"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
ENGINE = ReplacingMergeTree ORDER BY version"""


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


def migrate(store: Store, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is pending, in order, recording each; the names applied now."""
    store.command(LEDGER)
    rows = store.query("SELECT version, checksum FROM schema_migrations FINAL").result_rows
    todo = pending(load_migrations(directory), {int(v): c for v, c in rows})
    for m in todo:
        store.command(m.sql)
        store.insert("schema_migrations", [{"version": m.version, "name": m.name,
                                            "checksum": m.checksum,
                                            "applied_at": datetime.now(timezone.utc)}])
    return [m.name for m in todo]
