"""What the conversation processor reads from settings and the accounts file, once, at start."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from switchboard.accounts import Accounts, WithDeployments, load_accounts
from switchboard.settings import Settings

from . import consents, language, referrals
from .consents import Keywords
from .expiry import DEFAULT_GRACE_MS
from .language import Detect
from .referrals import EntryPointLookup

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ThreadingConfig:
    """Inactivity windows per channel account, the dedupe TTL, the expiry grace and timer interval,
    the tenant's system senders (the policy accepts them besides the connected agent), how a
    referral finds its entry point, the tenant's opt-out / opt-in keywords, whether a detail typed in
    a message may merge customers at once (`merge_typed_details`) and the tenant's language detection."""

    accounts: Accounts | WithDeployments
    default_window_ms: int
    ttl_ms: int
    grace_ms: int = DEFAULT_GRACE_MS
    expiry_interval_s: float = 30.0
    system_senders: Callable[[str], frozenset[str]] = lambda tenant: frozenset()  # noqa: ARG005
    entry_point: EntryPointLookup = referrals.none   # a referral's entry point (the directory's, referrals.lookup)
    consent_keywords: Keywords = consents.defaults    # the tenant's keywords (the directory's, consents.lookup)
    merge_typed_details: Callable[[str], bool] = lambda tenant: False  # noqa: ARG005 (the tenant's setting)
    detect_language: Callable[[str], Detect] = lambda tenant: language.none  # noqa: ARG005 (language.lookup)

    @classmethod
    def from_settings(cls, settings: Settings, directory=None, **overrides) -> "ThreadingConfig":
        """The config of `settings` (windows in hours there, millis here); with the directory, web
        deployments are accounts too and their windows apply (`switchboard.accounts.WithDeployments`)."""
        accounts = load_accounts(settings.accounts_file)
        return cls(WithDeployments(accounts, directory) if directory is not None else accounts,
                   int(settings.threading_window_hours * HOUR_MS), int(settings.dedupe_ttl_hours * HOUR_MS), **overrides)

    def account_of(self, thread_key: str):
        """The enabled channel account of a thread (None: unknown or disabled)."""
        _, channel, account, _ = thread_key.split(":", 3)
        return self.accounts.get(channel, account)

    def window_ms(self, channel: str, account_id: str) -> int:
        """The account's own (lower) window if it sets one, else the deployment's."""
        account = self.accounts.get(channel, account_id)
        hours = account.window_hours if account is not None else None
        return int(hours * HOUR_MS) if hours else self.default_window_ms

    def window_of(self, state_or_key: dict | str) -> int:
        """The window of a thread (state dict or thread key)."""
        if isinstance(state_or_key, dict):
            return self.window_ms(state_or_key["channel"], state_or_key["channel_account_id"])
        _, channel, account, _ = state_or_key.split(":", 3)
        return self.window_ms(channel, account)
