"""Secrets of a run, and where they must never be found: what `make run` printed (every role's log
is its stdout/stderr), every file of its data directory (the broker's logs and segments, the
engine's parts, media), every record on every topic (issue 15 item 5).

The secrets: every SecretStr of the accounts file, the auth secret, both ClickHouse passwords, and
any session token (a JWT, whoever signed it). Excepted by name: the files that hold a secret by
design (`auth-secret`, `clickhouse-secret`, `clickhouse-readonly-secret`, mode 0600), and the
documented demo passwords of deploy/people.yaml (`demo-password-<name>`, which `make run` prints
so a person can sign in) — they are no accounts-file secret, so never looked for.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from switchboard.accounts import load_accounts

SECRET_FILES = ("auth-secret", "clickhouse-secret", "clickhouse-readonly-secret")
DEMO_PASSWORD = re.compile(rb"demo-password-[a-z]+")
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


def run_secrets(data_dir: Path, accounts_file: Path) -> dict[str, bytes]:
    """Name -> value of every secret the run was configured with or generated."""
    found = {f"{a.tenant_id}/{a.channel}/{a.account_id}.{name}": value.get_secret_value().encode()
             for a in load_accounts(accounts_file) for name, value in a if isinstance(value, SecretStr)}
    found |= {name: (data_dir / name).read_bytes().strip() for name in SECRET_FILES if (data_dir / name).exists()}
    assert "auth-secret" in found and "clickhouse-secret" in found, sorted(found)
    assert all(len(v) >= 8 for v in found.values()) and len(found) > len(SECRET_FILES), found
    assert not any(DEMO_PASSWORD.fullmatch(v) for v in found.values())   # an exception never hides a secret
    return found


def leaks(secrets: dict[str, bytes], places) -> list[str]:
    """`<secret name> in <place>` for every secret, or session token, found in a place ((name, bytes) pairs)."""
    pattern = re.compile(b"|".join(re.escape(v) for v in sorted(secrets.values(), key=len, reverse=True)))
    names = {v: k for k, v in secrets.items()}
    found = set()
    for where, data in places:
        found |= {f"{names[m.group()]} in {where}" for m in pattern.finditer(data)}
        found |= {f"a session token in {where}" for _ in JWT.finditer(data)}
    return sorted(found)


def data_files(data_dir: Path):
    """(relative path, bytes) of every file of the data directory but the secret files, one at a time."""
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name not in SECRET_FILES:
            yield str(path.relative_to(data_dir)), path.read_bytes()
