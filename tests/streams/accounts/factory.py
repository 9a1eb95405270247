"""Records and a config for the account stage's tests, from tests/fixtures/accounts/ files."""
from __future__ import annotations

import json
from pathlib import Path

from streams.accounts.dispatch import AccountsConfig, apply
from streams.accounts.tiers import load_tiers
from switchboard.accounts import load_accounts
from switchboard.pricing import prices

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "accounts"
ACCOUNTS = FIXTURES / "accounts.yaml"
SMALL_TIERS = FIXTURES / "tiers_small.yaml"
T0 = 1_764_322_200_000   # 2025-11-28 09:30 UTC
HOUR, DAY = 3_600_000, 86_400_000
KEY = "acme:main"


def record(name: str, **overrides) -> dict:
    """The fixture `name` with top-level fields replaced."""
    return json.loads((FIXTURES / f"{name}.json").read_text()) | overrides


def template(n: int, name: str = "card_delivery_update", parameters=("Maria", "2025-11-28"),
             account: str = "109876543210987", **overrides) -> dict:
    """A business-initiated template from `account` to customer `n` (distinct outbound id and thread)."""
    recipient = f"1415555{n:04d}"
    base = record("outbound_template")
    return base | {"outbound_id": f"out-{n}", "recipient_id": recipient, "channel_account_id": account,
                   "thread_key": f"acme:whatsapp:{account}:{recipient}",
                   "template": base["template"] | {"name": name, "parameters": list(parameters)}} | overrides


def config(tenant: dict | None = None, tiers: Path = SMALL_TIERS, views: bool = True) -> AccountsConfig:
    """The stage's config over the fixture accounts, one tenant entry and a tier ladder."""
    accounts = load_accounts(ACCOUNTS)
    return AccountsConfig(accounts.get, lambda t: tenant, load_tiers(tiers), prices(), views=views)


class Stage:
    """The account stage's pure core applied record by record (state kept here, outputs collected)."""

    def __init__(self, cfg: AccountsConfig | None = None):
        self.cfg, self.state, self.outputs = cfg or config(), None, []

    def feed(self, source: str, value: dict, at: int) -> list:
        step = apply(source, self.state, value, portfolio_key=KEY, partition=0, record_ms=at, config=self.cfg)
        self.state = step.state
        self.outputs += step.outputs
        return [o for o in step.outputs if o.subject != "policy-view"]

    def synced(self, at: int = T0 - HOUR) -> "Stage":
        self.feed("account-events", record("templates_synced"), at)
        return self

    def send(self, outbound: dict, at: int = T0) -> list:
        return self.feed("outbound-checks", outbound, at)

    def tick(self, at: int) -> list:
        return self.feed("account-ticks", {"tick_id": f"{KEY}:{at}", "tenant_id": "acme", "portfolio_key": KEY,
                                           "at": at}, at)


def verdicts(outputs) -> list[tuple]:
    """(what, outbound id, rule or reason) per output: approved / held / rejected (the failed status)."""
    out = []
    for o in outputs:
        if o.subject == "outbound-message":
            out.append(("approved", o.value["outbound_id"]))
        elif o.subject == "outbound-rejection":
            out.append(("rejected", o.value["outbound_id"], o.value["rule"]))
        elif o.subject == "delivery-status" and o.value["status"] == "held":
            out.append(("held", o.value["outbound_id"], o.value["hold_reason"]))
    return out
