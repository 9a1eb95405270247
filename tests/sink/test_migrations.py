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
    # 0060-0079: the reports' tables read by time (message spans, responses, conversations by day).
    assert all(1 <= m.version <= 79 for m in migrations)


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


UPGRADE = """
import json, shutil, sys
from pathlib import Path
from sink.embedded import EmbeddedClickHouse
from sink.store import EmbeddedStore
from sink.migrations import MIGRATIONS_DIR, migrate
before = Path(sys.argv[2])
before.mkdir()
for path in MIGRATIONS_DIR.glob("*.sql"):
    if int(path.name[:4]) <= 66:
        shutil.copy(path, before)
engine = EmbeddedClickHouse(Path(sys.argv[1]))
store = EmbeddedStore(engine)
migrate(store, before)
store.insert("conversation_facts", [{"tenant_id": "t", "conversation_id": "c-old", "channel": "line",
                                     "started_at": "2026-03-01 09:00:00.000", "agents": ["a-1"]}])
applied = migrate(store)
store.insert("conversation_facts", [{"tenant_id": "t", "conversation_id": "c-old", "agents": ["a-2"],
                                     "row_at": "2026-03-02 10:00:00.000"},
                                    {"tenant_id": "t", "conversation_id": "c-new", "row_at": "2026-03-02 11:00:00.000",
                                     "started_at": "2026-03-02 11:00:00.000"}])
q = lambda sql: [list(r) for r in store.query(sql).result_rows]
print(json.dumps({"applied": applied,
    "facts": q("SELECT conversation_id, channel, arraySort(agents) FROM conversation_facts FINAL ORDER BY conversation_id"),
    "partitions": q("SELECT DISTINCT partition FROM system.parts WHERE active AND table = 'conversation_facts' "
                    "AND database = currentDatabase() ORDER BY partition"),
    "starts": q("SELECT conversation_id, toString(at) FROM conversation_starts ORDER BY conversation_id"),
    "tables": q("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'conversation_facts%'")}))
engine.close()
"""


@pytest.mark.clickhouse
def test_conversation_facts_move_into_day_partitions_with_their_rows_and_starts(tmp_path):
    # DDL 0067-0072: the rows written before keep their facts (in the migration's day), the rows after
    # land in the day of their event, and conversation_starts follows the new table
    out = subprocess.run([sys.executable, "-c", UPGRADE, str(tmp_path / "ch"), str(tmp_path / "before")],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["applied"][0].startswith("0067_") and result["applied"][-1] == "0072_create_conversation_starts_mv"
    assert result["facts"] == [["c-new", None, []], ["c-old", "line", ["a-1", "a-2"]]]
    days = [p[0] for p in result["partitions"]]
    assert "20260302" in days and len(days) == 2   # the migration's day and the event's
    assert result["starts"] == [["c-new", "2026-03-02 11:00:00.000"], ["c-old", "2026-03-01 09:00:00.000"]]
    assert result["tables"] == [["conversation_facts"]]
