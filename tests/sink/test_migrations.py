"""Forward-only migrations: numbered files, applied once, recorded, never changed."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sink.migrations import MIGRATIONS_DIR, MigrationError, load_migrations, pending

FRESH = """
import json, sys
from pathlib import Path
from sink.embedded import EmbeddedClickHouse
from sink.store import EmbeddedStore
from sink.migrations import migrate
engine = EmbeddedClickHouse(Path(sys.argv[1]))
store = EmbeddedStore(engine)
first, again = migrate(store), migrate(store)
ledger = store.query("SELECT name FROM schema_migrations FINAL ORDER BY version").result_rows
print(json.dumps({"first": first, "again": again, "ledger": [r[0] for r in ledger]}))
engine.close()
"""


def test_files_are_numbered_uniquely_in_their_owners_ranges():
    migrations = load_migrations()
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})
    # 0001-0019: the sink's own tables; 0020-0029: routing; 0030-0039: identity; 0040-0059: the
    # facts of reports (open segments and statuses, queue configuration, media and senders: issue 13);
    # 0060-0069: the reports' tables read by time (message spans and timelines by conversation).
    assert all(1 <= m.version <= 69 for m in migrations)


@pytest.mark.clickhouse
def test_a_fresh_engine_gets_every_migration_once(tmp_path):
    # chdb allows one engine per process: a fresh one needs its own process.
    out = subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "ch")], capture_output=True,
                         text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    names = [p.stem for p in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert result == {"first": names, "again": [], "ledger": names}


def test_a_changed_applied_migration_refuses_to_start():
    first = load_migrations()[0]
    with pytest.raises(MigrationError, match="forward-only"):
        pending([first], {first.version: "0" * 64})


def test_pending_skips_what_was_applied():
    migrations = load_migrations()
    applied = {m.version: m.checksum for m in migrations[:2]}
    assert pending(migrations, applied) == migrations[2:]


@pytest.mark.parametrize("name", ["1_create_x.sql", "0001-create-x.sql", "0001_Create_X.sql"])
def test_badly_named_files_are_refused(tmp_path, name):
    (tmp_path / name).write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNNN_"):
        load_migrations(tmp_path)


def test_duplicate_numbers_are_refused(tmp_path):
    (tmp_path / "0001_create_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_create_b.sql").write_text("SELECT 2")
    with pytest.raises(MigrationError, match="already"):
        load_migrations(tmp_path)
