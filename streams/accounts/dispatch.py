"""Which pure function applies a record of each source topic of the account stage, and the policy
view produced when it changed. The clock is the record's time (never going back): a replay
decides exactly as before."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas import topic

from . import holds, outputs
from .decide import Context, verdict
from .events import apply_event
from .state import Step, prune, seen, working_copy
from .tenants import TenantPolicy
from .tiers import Ladders
from .view import account_view, view_hash


@dataclass(frozen=True)
class AccountsConfig:
    """How a message finds its account and tenant policy; the ladders, prices, and whether views go out."""

    account_of: Callable[[str, str], object | None]     # (channel, account id) -> enabled account
    tenant_of: Callable[[str], dict | None]              # tenant id -> the directory's tenant entry
    ladders: Ladders
    prices: object | None = None
    views: bool = True

    def context(self, outbound: dict) -> Context:
        """The context of one outbound message."""
        return Context(self.account_of(outbound["channel"], outbound["channel_account_id"]),
                       TenantPolicy.of(self.tenant_of(outbound["tenant_id"])), self.ladders, self.prices)


def _outbound(state: dict, value: dict, now: int, config: AccountsConfig) -> list | None:
    if seen(state, value["outbound_id"]):
        return None   # a replay or a sequencer duplicate: decided (or held) already
    ctx = config.context(value)
    if value["channel"] == "whatsapp" and ctx.account is not None:
        state["configured_tier"] = ctx.account.messaging_limit_tier
    tenant = config.tenant_of(value["tenant_id"]) or {}
    state["budget_daily"], state["budget_monthly"] = tenant.get("budget_daily"), tenant.get("budget_monthly")
    result = verdict(state, value, ctx, now)
    if result.action == "hold":
        return holds.keep(state, value, result, now)
    return holds.decided(state, value, ctx, result, now)


def _event(state: dict, value: dict, now: int, config: AccountsConfig) -> list:
    apply_event(state, value)
    return holds.release(state, config.context, now)   # a raised tier lets held messages go at once


def _tick(state: dict, value: dict, now: int, config: AccountsConfig) -> list:  # noqa: ARG001
    return holds.release(state, config.context, now)


# Source topic -> the pure function of its records; all keyed by portfolio key, co-partitioned.
HANDLERS = {"outbound-checks": _outbound, "account-events": _event, "account-ticks": _tick}
SUBJECTS = {topic(name).name: topic(name).value for name in HANDLERS}


def apply(source: str, state: dict | None, value: dict, *, portfolio_key: str, partition: int, record_ms: int,
          config: AccountsConfig) -> Step:
    """Apply one decoded record of `source` to the portfolio's state; `record_ms` its Kafka time."""
    state = working_copy(state, portfolio_key, value["tenant_id"], partition, record_ms)
    now = state["clock"]
    produced = HANDLERS[source](state, value, now, config)
    if produced is None:
        return Step(state, [], duplicate=True)
    prune(state, now)
    if config.views:
        view = account_view(state, portfolio_key, now, config.ladders)
        digest = view_hash(view)
        if digest != state["view_hash"]:
            state["view_hash"] = digest
            produced = produced + [outputs.view(portfolio_key, view)]
    return Step(state, produced)
