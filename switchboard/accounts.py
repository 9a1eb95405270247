"""Channel accounts as data: one YAML file of tenants and their accounts, secrets as SecretStr.

Values written `${NAME}` are read from the environment, so the file can be committed while the
secrets live in the deployment's secret store.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .settings import MAX_WINDOW_HOURS, ConfigError

_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


class _Account(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._@-]+$")
    tenant_id: str = ""  # filled from the tenant the account is listed under
    window_hours: float | None = Field(None, gt=0, le=MAX_WINDOW_HOURS,
                                       description="conversation inactivity window; ≤ 72 h")
    api_base_url: str | None = None
    enabled: bool = True

    _signing_secret_fields: ClassVar[tuple[str, ...]] = ()

    def signing_secrets(self) -> list[bytes]:
        """The secrets inbound signatures may use: current first, then previous (during rotation)."""
        values = (getattr(self, name) for name in self._signing_secret_fields)
        return [v.get_secret_value().encode() for v in values if v is not None]


class MessengerAccount(_Account):
    """A Facebook Page."""

    _signing_secret_fields = ("app_secret", "previous_app_secret")

    channel: Literal["messenger"]
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr
    access_token: SecretStr
    policy: Literal["standard", "24+1", "human_agent"] = "human_agent"


class WhatsAppAccount(_Account):
    """A WhatsApp Business phone number (account_id is its phone_number_id)."""

    _signing_secret_fields = ("app_secret", "previous_app_secret")

    channel: Literal["whatsapp"]
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr
    access_token: SecretStr
    display_phone_number: str | None = None
    waba_id: str | None = None
    messaging_limit_tier: str = "TIER_250"


class LineAccount(_Account):
    """A LINE Official Account channel (account_id is the bot's user id, the webhook destination)."""

    _signing_secret_fields = ("channel_secret", "previous_channel_secret")

    channel: Literal["line"]
    channel_secret: SecretStr
    previous_channel_secret: SecretStr | None = None
    access_token: SecretStr


class XAccount(_Account):
    """An X account receiving Direct Messages (account_id is its user id, for_user_id)."""

    _signing_secret_fields = ("consumer_secret", "previous_consumer_secret")

    channel: Literal["x"]
    consumer_secret: SecretStr
    previous_consumer_secret: SecretStr | None = None
    access_token: SecretStr


class OpenAccount(_Account):
    """An Open Messaging integration: any channel speaking our normalized JSON API."""

    _signing_secret_fields = ("secret", "previous_secret")

    channel: Literal["open"]
    secret: SecretStr
    previous_secret: SecretStr | None = None
    outbound_url: str
    outbound_secret: SecretStr


class WebAccount(_Account):
    """A web messaging widget deployment."""

    channel: Literal["web"]
    allowed_origins: list[str] = Field(default_factory=list)


Account = Annotated[Union[MessengerAccount, WhatsAppAccount, LineAccount, XAccount, OpenAccount, WebAccount],
                    Field(discriminator="channel")]


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


def load_accounts(path: Path) -> Accounts:
    """The accounts file at `path`, validated; ConfigError naming the file and field otherwise."""
    if not Path(path).exists():
        raise ConfigError(f"accounts file {path} not found: create it or set SWITCHBOARD_ACCOUNTS_FILE")
    raw = _expand_env(yaml.safe_load(Path(path).read_text()) or {}, path)
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {reasons}") from None
    return Accounts([a.model_copy(update={"tenant_id": tenant})
                     for tenant, body in parsed.tenants.items() for a in body["accounts"]])
