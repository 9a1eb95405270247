"""The tier ladder file, the account view, the state codec and the tenant settings, as pure units."""
import argparse

import pytest

from schemas import Codec
from streams.accounts.state import StateCodec
from streams.accounts.tiers import TIERS_FILE, load_tiers
from streams.accounts.view import account_view, view_hash
from switchboard.admin_cli import _tenant_changes
from switchboard.directory import validated
from switchboard.errors import UserError

from .factory import FIXTURES, HOUR, KEY, T0, Stage, config, record, template

OCT_2025, SEPT_2025 = 1_759_276_800_000, 1_756_684_800_000


@pytest.mark.parametrize("tier,at,limit", [
    ("TIER_250", T0, 250), ("TIER_2K", T0, 2000), ("TIER_100K", T0, 100_000), ("TIER_UNLIMITED", T0, None),
    ("TIER_1K", SEPT_2025, 1000),   # the seed's ladder before October 2025
    ("TIER_2K", OCT_2025, 2000),    # from 00:00 UTC of the effective date
    ("TIER_1K", T0, 250),           # a tier the ladder in force lacks: its lowest limit
])
def test_the_ladder_in_force_gives_the_tiers_limit(tier, at, limit):
    assert load_tiers(TIERS_FILE).limit(tier, at) == limit


def test_a_bad_ladder_file_is_one_line_naming_the_file_and_the_fix():
    with pytest.raises(UserError, match=r"tiers_bad.yaml: ladders.0.tiers: .*must be positive.*fix the file"):
        load_tiers(FIXTURES / "tiers_bad.yaml")
    with pytest.raises(UserError, match="cannot read"):
        load_tiers(FIXTURES / "missing.yaml")


def test_the_account_view_shows_tier_headroom_holds_quota_caps_budgets_and_templates():
    stage = Stage(config({"budget_daily": "1.00", "budget_monthly": "10"})).synced()
    for n in range(4):
        stage.send(template(n), T0 + n)
    view = account_view(stage.state, KEY, T0 + 10, config().ladders)
    assert {k: view[k] for k in ("kind", "key", "messaging_limit_tier", "tier_limit", "tier_used", "held",
                                 "currency", "channel")} == \
        {"kind": "account", "key": KEY, "messaging_limit_tier": "TIER_250", "tier_limit": 3, "tier_used": 3,
         "held": 1, "currency": "USD", "channel": "whatsapp"}
    assert view["budget_day_left"] == "0.988" and view["budget_month_left"] == "9.988"
    assert {(t["name"], t["language"], t["status"]) for t in view["templates"]} >= {
        ("winter_sale", "en_US", "PAUSED"), ("card_delivery_update", "en_US", "APPROVED")}
    line = Stage()
    line.feed("account-events", record("quota_synced"), T0)
    assert {k: account_view(line.state, KEY, T0 + 1)[k] for k in ("quota_limit", "quota_used", "channel")} == \
        {"quota_limit": 200, "quota_used": 198, "channel": "line"}


def test_a_policy_view_is_produced_only_when_it_changes():
    stage = Stage().synced()
    views = [o for o in stage.outputs if o.subject == "policy-view"]
    assert len(views) == 1 and views[0].key == f"account:{KEY}"
    stage.tick(T0)
    assert len([o for o in stage.outputs if o.subject == "policy-view"]) == 1
    assert view_hash(account_view(stage.state, KEY, T0)) == view_hash(account_view(stage.state, KEY, T0 + HOUR))


def test_the_state_round_trips_through_its_codec_with_held_messages():
    stage = Stage().synced()
    for n in range(4):
        stage.send(template(n), T0 + n)
    codec = StateCodec(Codec())
    again = codec.loads(codec.dumps(stage.state))
    assert [h["outbound"]["outbound_id"] for h in again["held"]] == ["out-3"]
    assert again["recipients"] == stage.state["recipients"] and again["catalogues"] == stage.state["catalogues"]


def _args(**given) -> argparse.Namespace:
    names = ("name", "system_sender", "time_zone", "budget_daily", "budget_monthly", "opt_out_keywords",
             "opt_in_keywords", "quiet_hours", "language")
    return argparse.Namespace(**({n: None for n in names} | given))


@pytest.mark.parametrize("given,changes", [
    ({"budget_daily": "25.50"}, {"budget_daily": "25.50"}),
    ({"budget_monthly": "none"}, {"budget_monthly": None}),
    ({"quiet_hours": "21:00-08:00"}, {"quiet_hours": {"start": "21:00", "end": "08:00"}}),
    ({"quiet_hours": "none"}, {"quiet_hours": None}),
    ({"opt_out_keywords": ["es=BAJA,ALTO", "en=STOP"]}, {"opt_out_keywords": {"es": ["BAJA", "ALTO"], "en": ["STOP"]}}),
    ({"time_zone": "Europe/Madrid"}, {"time_zone": "Europe/Madrid"}),
])
def test_admin_tenant_set_changes_only_what_is_given(given, changes):
    assert _tenant_changes(_args(**given)) == changes
    validated("tenant", changes)


@pytest.mark.parametrize("given,message", [
    ({"quiet_hours": "21:00"}, "START-END"), ({"opt_out_keywords": ["BAJA"]}, "LANG=WORD"),
])
def test_admin_tenant_set_refuses_a_malformed_option_naming_the_form(given, message):
    with pytest.raises(UserError, match=message):
        _tenant_changes(_args(**given))


def test_tenant_defaults_carry_the_opt_out_keywords_and_utc():
    body = validated("tenant", {"name": "Acme"})
    assert body["time_zone"] == "UTC" and body["quiet_hours"] is None and body["budget_daily"] is None
    assert body["opt_out_keywords"]["es"] == ["BAJA"] and body["opt_in_keywords"] == {"en": ["START"]}
