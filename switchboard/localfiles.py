"""Values the processes of one machine share through the data directory, created once."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def kept_once(data_dir: Path, name: str, make: callable, *, private: bool = True) -> str:
    """The text kept in `<data_dir>/<name>`, written from `make()` the first time; of processes
    starting together the first one wins (a hard link never replaces an existing file)."""
    path = Path(data_dir) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(8)}")
        tmp.write_text(make())
        if private:
            tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def local_secret(data_dir: Path, name: str, nbytes: int = 24) -> str:
    """A random URL-safe secret kept in `<data_dir>/<name>`, created once."""
    return kept_once(data_dir, name, lambda: secrets.token_urlsafe(nbytes))
