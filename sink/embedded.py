"""The embedded ClickHouse engine (chdb), owned by one process per data directory."""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from .errors import ClickHouseError, code_of


class EngineLocked(RuntimeError):
    """The data directory is open in another process (chdb allows one)."""


class EmbeddedClickHouse:
    """One chdb session on a persistent data directory; thread-safe for queries and inserts."""

    def __init__(self, path: Path):
        try:
            from chdb import session
        except ImportError as exc:  # pragma: no cover - chdb is a core dependency
            raise ImportError("the embedded engine needs chdb: pip install 'chdb>=4.4,<4.5' "
                              "(or set SWITCHBOARD_CLICKHOUSE_URL to use a server)") from exc
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._session = session.Session(str(path))
        except Exception as exc:  # chdb locks `<path>/status`: one process per data directory
            raise EngineLocked(f"cannot open the embedded ClickHouse in {path}: {exc} — another "
                               "`switchboard sink` owns it; stop that one, or give this one its own "
                               "SWITCHBOARD_DATA_DIR") from None
        self._tmp = path / "tmp-inserts"
        self._tmp.mkdir(exist_ok=True)
        self._lock = threading.Lock()  # chdb 4.4 runs one statement at a time per session anyway

    def run(self, sql: str, fmt: str = "TabSeparated", params: dict[str, str] | None = None) -> bytes:
        """Execute one statement; the output in `fmt` unless the SQL names its own FORMAT."""
        try:
            with self._lock:
                return self._session.query(sql, fmt, params=params or {}).bytes()
        except Exception as exc:  # chdb raises ChdbError/RuntimeError with ClickHouse's own text
            message = str(exc)
            raise ClickHouseError(code_of(message), message) from None

    def insert_file(self, insert_head: str, data: bytes, fmt: str) -> None:
        """`INSERT INTO t (cols)` with `data` in `fmt` (binary formats go through a temp file)."""
        fd, name = tempfile.mkstemp(dir=self._tmp, suffix=".bin")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            self.run(f"{insert_head} SELECT * FROM file('{name}', {fmt})")
        finally:
            os.unlink(name)

    def close(self) -> None:
        """Release the data directory (another process may open it afterwards)."""
        self._session.close()
