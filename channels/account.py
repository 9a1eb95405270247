"""What every channel account has: its id, tenant, window, API base URL and signing secrets; and
the platform apps (a Meta app, an X app) that own accounts and sign for all of them."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from switchboard.settings import MAX_WINDOW_HOURS, ConfigError

# An app's name is a path segment (/webhooks/meta/{app}, /webhooks/x/{app}); it starts with a letter,
# so it never reads as an X user id (digits), whose per-account URL shares /webhooks/x/.
APP_NAME = r"^[a-z][a-z0-9-]{0,62}$"
# The platforms' APIs, the default `api_base_url` of their accounts (docs/channels/<channel>.md);
# outside loopback only with SWITCHBOARD_ALLOW_OUTSIDE_TARGETS (connectors/sending.py).
GRAPH_API = "https://graph.facebook.com/v21.0"   # the Graph API version the connectors are written against
X_API = "https://api.x.com"


class ChannelAccount(BaseModel):
    """Base of each channel's account model (one entry of the accounts file); secrets as SecretStr.

    A subclass declares `channel: Literal["<channel>"]` (the discriminator of the accounts file)
    and `_signing_secret_fields`, the fields inbound signatures may use: current, then previous.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._@-]+$")
    tenant_id: str = ""  # filled from the tenant the account is listed under
    window_hours: float | None = Field(None, gt=0, le=MAX_WINDOW_HOURS,
                                       description="conversation inactivity window; ≤ 72 h")
    api_base_url: str | None = None   # each channel's model gives its platform's real API as default
    enabled: bool = True
    # Hosts inbound media may be fetched from (connectors/media/fetch.py, the SSRF control); empty:
    # only the api_base_url host. "*.fbcdn.net" allows that domain's subdomains.
    media_hosts: tuple[str, ...] = ()
    # The business portfolio the account belongs to (for WhatsApp, Meta's business portfolio, whose
    # messaging-limit tier its numbers share): the account stage (streams/accounts) keeps one state
    # per portfolio key `<tenant>:<portfolio>`; by default a tenant's accounts share one.
    portfolio_id: str = Field("main", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    # The account's country (ISO 3166-1 alpha-2, e.g. "FR"): the default region for phone numbers its
    # customers type without a country code (streams/conversations/volunteered.py); None: only +… numbers.
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")

    _signing_secret_fields: ClassVar[tuple[str, ...]] = ()
    # The fields an account owned by an app (`app:`) takes from it: the app signs for its accounts.
    _app_secret_fields: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _secrets_of_app(cls, data):
        return from_app(data, cls._app_secret_fields)

    @property
    def portfolio_key(self) -> str:
        """The key of the account stage's state for this account: `<tenant>:<portfolio>`."""
        return f"{self.tenant_id}:{self.portfolio_id}"

    def signing_secrets(self) -> list[bytes]:
        """The secrets inbound signatures may use: current first, then previous (during rotation)."""
        return secrets_of(self, self._signing_secret_fields)


def secrets_of(model: BaseModel, names: tuple[str, ...]) -> list[bytes]:
    """The values of the model's secret fields `names` that are set, in that order."""
    values = (getattr(model, name) for name in names)
    return [v.get_secret_value().encode() for v in values if v is not None]


class PlatformApp(BaseModel):
    """A platform app that owns accounts: one webhook URL (`/webhooks/{platform}/{name}`) and one
    signing secret for all of them. Written once in the accounts file with a YAML anchor
    (`app: &acme-meta {…}`) and named by each account it owns (`app: *acme-meta`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: ClassVar[str]
    channels: ClassVar[tuple[str, ...]]
    _signing_secret_fields: ClassVar[tuple[str, ...]] = ()
    name: str = Field(pattern=APP_NAME)

    def signing_secrets(self) -> list[bytes]:
        """The secrets the platform signs the app's webhooks with: current first, then previous."""
        return secrets_of(self, self._signing_secret_fields)


class MetaApp(PlatformApp):
    """A Meta app (App Dashboard): one callback URL for its Messenger Pages and WhatsApp numbers."""

    platform: ClassVar[str] = "meta"
    channels: ClassVar[tuple[str, ...]] = ("messenger", "whatsapp")
    _signing_secret_fields = ("app_secret", "previous_app_secret")
    app_id: str = Field(pattern=r"^[0-9]+$")
    app_secret: SecretStr
    previous_app_secret: SecretStr | None = None
    verify_token: SecretStr


class XApp(PlatformApp):
    """An X app (developer portal): one Account Activity webhook for every subscribed account."""

    platform: ClassVar[str] = "x"
    channels: ClassVar[tuple[str, ...]] = ("x",)
    _signing_secret_fields = ("consumer_secret", "previous_consumer_secret")
    consumer_secret: SecretStr
    previous_consumer_secret: SecretStr | None = None


def apps_of(accounts) -> dict[tuple[str, str], PlatformApp]:
    """Every app the accounts name, by (platform, name); ConfigError when two accounts give one
    name two different apps (write the app once with a YAML anchor and alias it)."""
    apps: dict[tuple[str, str], PlatformApp] = {}
    for account in accounts:
        app = getattr(account, "app", None)
        if app is None:
            continue
        known = apps.setdefault((app.platform, app.name), app)
        if known != app:
            raise ConfigError(f"{app.platform} app {app.name!r} is written twice with different values (at "
                              f"{account.channel}/{account.account_id}): define it once (`app: &{app.name} {{…}}`) "
                              f"and alias it (`app: *{app.name}`)")
    return apps


def from_app(data, fields: tuple[str, ...]):
    """An account entry with the secrets its `app` holds (the app signs for the account): each of
    `fields` taken from the app when the entry leaves it out; an entry giving another value than its
    app is refused (the platform signs with the app's secret only)."""
    if not isinstance(data, dict) or not isinstance(data.get("app"), (dict, PlatformApp)):
        return data
    app = data["app"] if isinstance(data["app"], dict) else data["app"].model_dump()
    data = dict(data)
    for name in fields:
        given, owned = data.get(name), app.get(name)
        if owned is None:
            continue
        if given is not None and _plain(given) != _plain(owned):
            raise ValueError(f"{name} differs from its app {app.get('name')!r}'s: leave it out of the account "
                             "(the app's is the one the platform signs with)")
        data[name] = owned
    return data


def _plain(value):
    return value.get_secret_value() if isinstance(value, SecretStr) else value
