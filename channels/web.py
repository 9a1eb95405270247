"""Web Messaging: our own widget (docs/channels/web.md). No platform, so no webhook signature and no
window; the guest WebSocket and the widget are served by the edge (`connectors/webmessaging/`).

A deployment (one widget installation on one site) is data in the directory (kind `deployment`,
`switchboard admin deployment …`): `DeploymentBody` below. Its channel account — what the accounts
union, delivery and the conversation processor look up as `("web", deployment id)` — is made from
that entry by `account_of`; the accounts file may list static ones too.
"""
from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.settings import MAX_WINDOW_HOURS

from .account import ChannelAccount
from .spec import ChannelSpec
from .verdicts import no_window
from .zones import TimeZoneName

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_FILE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
PRECHAT_FIELDS = ("name", "email", "phone")


class WebAccount(ChannelAccount):
    """A web messaging widget deployment as a channel account (account_id is the deployment id)."""

    channel: Literal["web"]
    allowed_origins: list[str] = Field(default_factory=list)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Look(_Part):
    """What the widget shows: the business's name, its colour, the greeting and the UI language."""

    name: str = Field("Chat with us", min_length=1, max_length=80)
    colour: str = Field("#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")
    greeting: str = Field("Hi! How can we help?", max_length=500)
    language: str = Field("en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Hours(_Part):
    """Business hours: per weekday a list of ["HH:MM", "HH:MM"] spans in `timezone`. A day absent
    from `weekly` is closed; no `hours` at all on a deployment means always open."""

    timezone: TimeZoneName = "UTC"
    weekly: dict[Literal[DAYS], tuple[tuple[str, str], ...]] = Field(default_factory=dict)

    @field_validator("weekly")
    @classmethod
    def _spans(cls, weekly: dict) -> dict:
        for day, spans in weekly.items():
            for start, end in spans:
                if not (_minutes(start) < _minutes(end)):
                    raise ValueError(f"{day}: {start}-{end} must start before it ends (HH:MM, 24 h)")
        return weekly

    def open_at(self, epoch_ms: int) -> bool:
        """Whether `epoch_ms` falls inside one of the spans (local time of `timezone`)."""
        local = dt.datetime.fromtimestamp(epoch_ms / 1000, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        return any(_minutes(a) <= minute < _minutes(b) for a, b in self.weekly.get(DAYS[local.weekday()], ()))


class JwtAuth(_Part):
    """Authenticated mode: the site signs a JWT for its signed-in visitor (docs/channels/web.md).
    HS256 with a shared `secret`, or RS256 with the site's `public_key` (PEM)."""

    enabled: bool = False
    algorithm: Literal["HS256", "RS256"] = "HS256"
    secret: str | None = None   # kept in the directory as given (SecretStr would dump as ****); shown redacted
    public_key: str | None = None
    issuer: str | None = None
    audience: str | None = None
    required: bool = False   # True: guests cannot chat until the site vouches for them

    @model_validator(mode="after")
    def _key(self) -> "JwtAuth":
        if self.enabled and self.algorithm == "HS256" and len(self.secret or "") < 32:
            raise ValueError("HS256 needs a secret of at least 32 characters")
        if self.enabled and self.algorithm == "RS256" and not (self.public_key or "").startswith("-----BEGIN"):
            raise ValueError("RS256 needs the site's public_key in PEM form")
        return self


class DeploymentBody(_Part):
    """One widget deployment of a tenant (directory kind `deployment`, id = the deployment id)."""

    allowed_origins: tuple[str, ...] = Field(min_length=1)   # e.g. "https://www.example.com"; exact match
    window_hours: float = Field(MAX_WINDOW_HOURS, gt=0, le=MAX_WINDOW_HOURS)   # threading window, ≤ 72 h
    session_hours: float = Field(720.0, gt=0, le=24 * 365)   # how long a guest token resumes its session
    file_types: tuple[str, ...] = DEFAULT_FILE_TYPES          # MIME types a visitor may attach
    max_file_bytes: int = Field(10 * 1024 * 1024, gt=0, le=100 * 1024 * 1024)
    authenticated: JwtAuth = JwtAuth()
    look: Look = Look()
    hours: Hours | None = None                                # None: always open
    prechat: tuple[Literal[PRECHAT_FIELDS], ...] = ()         # the pre-chat form's fields; () = no form
    queue: str | None = None                                  # a routing queue to prefer (attribute)
    enabled: bool = True

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(f"{origin!r} is not an origin: scheme://host[:port], no path")
        return origins


class EntryPointBody(_Part):
    """A click-to-chat link or snippet of one channel account with its campaign (directory kind
    `entry_point`, id = the entry point id, which is also the `ref` the link carries)."""

    channel: Literal["web", "messenger", "whatsapp", "line", "x"]
    account_id: str = Field(min_length=1)
    campaign: str = Field(min_length=1, max_length=120)
    text: str = Field("", max_length=1000)         # prefilled message (WhatsApp, X)
    ad_ids: tuple[str, ...] = ()                   # click-to-WhatsApp / Messenger ad ids that mean this entry
    description: str = ""


def account_of(tenant: str, deployment_id: str, body: dict) -> WebAccount:
    """The channel account of a deployment entry (its validated body as the directory holds it)."""
    return WebAccount(channel="web", account_id=deployment_id, tenant_id=tenant,
                      window_hours=body.get("window_hours"), allowed_origins=list(body.get("allowed_origins", ())),
                      enabled=body.get("enabled", True))


def _minutes(hhmm: str) -> int:
    hours, sep, minutes = hhmm.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or int(hours) > 24 or int(minutes) > 59:
        raise ValueError(f"{hhmm!r} is not HH:MM")
    return int(hours) * 60 + int(minutes)


SPEC = ChannelSpec(
    channel="web", account=WebAccount,
    # Our own widget renders these (docs/channels/web.md "What an agent can send"); stickers are from
    # our own set (connectors/webmessaging/static/stickers/).
    content={"text": 20000, "url": True, "image": True, "sticker": True, "template": False},
    window_rule=no_window,
    # What the widget does not draw goes as what it does (channels/fallbacks.py).
    fallbacks={"quick_reply": "numbered_text", "location": "map_link"},
    connector="connectors.web:WebConnector",
    simulator="connectors.simulators.web:WebVisitors")
