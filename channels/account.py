"""What every channel account has: its id, tenant, window, API base URL and signing secrets."""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from switchboard.settings import MAX_WINDOW_HOURS


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
    api_base_url: str | None = None
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

    @property
    def portfolio_key(self) -> str:
        """The key of the account stage's state for this account: `<tenant>:<portfolio>`."""
        return f"{self.tenant_id}:{self.portfolio_id}"

    def signing_secrets(self) -> list[bytes]:
        """The secrets inbound signatures may use: current first, then previous (during rotation)."""
        values = (getattr(self, name) for name in self._signing_secret_fields)
        return [v.get_secret_value().encode() for v in values if v is not None]
