"""Channel accounts as data: one YAML file of tenants and their accounts, secrets as SecretStr.

Values written `${NAME}` are read from the environment, so the file can be committed while the
secrets live in the deployment's secret store.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channels.registry import CHANNELS

from .settings import ConfigError

_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


# One model per channel, each declared in its module channels/<channel>.py; the file's entries are
# told apart by `channel`.
Account = Annotated[Union[tuple(spec.account for spec in CHANNELS.values())], Field(discriminator="channel")]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenants: dict[str, dict[Literal["accounts"], list[Account]]]


class Accounts:
    """All channel accounts, looked up by (channel, account_id)."""

    def __init__(self, accounts: list):
        self._by_key = {}
        for account in accounts:
            key = (account.channel, account.account_id)
            if key in self._by_key:
                raise ConfigError(f"account {account.channel}/{account.account_id} is listed twice")
            self._by_key[key] = account

    def get(self, channel: str, account_id: str):
        """The account, or None when it is not configured (or disabled)."""
        account = self._by_key.get((channel, account_id))
        return account if account is not None and account.enabled else None

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


class WithDeployments:
    """The accounts file's accounts plus, for channel `web`, one account per deployment in the
    directory (`channels.web.account_of`); a deployment overrides a file entry of the same id."""

    def __init__(self, accounts: Accounts, directory):
        self.accounts, self.directory = accounts, directory
        self._made: dict[str, tuple[int, object]] = {}   # deployment id → (directory version, account)

    def get(self, channel: str, account_id: str):
        """The account, or None when it is not configured (or disabled)."""
        found = self.directory.deployment(account_id) if channel == "web" and self.directory is not None else None
        if found is None:
            return self.accounts.get(channel, account_id)
        tenant, body = found
        made = self._made.get(account_id)
        if made is None or made[0] != self.directory.version:
            from channels.web import account_of

            made = self._made[account_id] = (self.directory.version, account_of(tenant, account_id, body))
        return made[1] if made[1].enabled else None

    def __iter__(self):
        return iter(self.accounts)

    def __len__(self) -> int:
        return len(self.accounts)


def _expand_env(node, source: Path):
    """Replace ${NAME} in every string value of the parsed file by the environment variable NAME."""
    if isinstance(node, dict):
        return {key: _expand_env(value, source) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand_env(item, source) for item in node]
    if not isinstance(node, str):
        return node

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{source}: ${{{name}}} is used but the environment variable {name} is not set")
        return os.environ[name]
    return _ENV_REF.sub(value, node)


def _read_yaml(path: Path):
    """The parsed file; ConfigError with the file, line and column when it is not readable YAML."""
    try:
        return yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {exc.problem or exc.context}; fix the file "
                          "or set SWITCHBOARD_ACCOUNTS_FILE to another one") from None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as YAML ({' '.join(str(exc).split())}): fix the file "
                          "or set SWITCHBOARD_ACCOUNTS_FILE to another one") from None


def load_accounts(path: Path) -> Accounts:
    """The accounts file at `path`, validated; ConfigError naming the file and field otherwise."""
    if not Path(path).exists():
        raise ConfigError(f"accounts file {path} not found: create it or set SWITCHBOARD_ACCOUNTS_FILE")
    raw = _expand_env(_read_yaml(Path(path)) or {}, path)
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {reasons}") from None
    return Accounts([a.model_copy(update={"tenant_id": tenant})
                     for tenant, body in parsed.tenants.items() for a in body["accounts"]])
