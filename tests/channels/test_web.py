"""Web Messaging deployments and entry points as data: what a deployment may say, business hours."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from channels.web import DeploymentBody, EntryPointBody, Hours, account_of
from switchboard.directory import validated
from switchboard.errors import UserError

SITE = "https://www.acme.example"


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_a_deployment_needs_origins_and_keeps_the_window_at_most_72_hours():
    with pytest.raises(UserError, match="allowed_origins"):
        validated("deployment", {})
    with pytest.raises(UserError, match="window_hours"):
        validated("deployment", {"allowed_origins": [SITE], "window_hours": 73})
    with pytest.raises(UserError, match="is not an origin"):
        validated("deployment", {"allowed_origins": ["https://www.acme.example/chat"]})
    body = validated("deployment", {"allowed_origins": [SITE], "window_hours": 0.01})
    assert body["window_hours"] == 0.01 and body["authenticated"]["enabled"] is False
    assert "image/png" in body["file_types"] and body["look"]["language"] == "en"


def test_authenticated_mode_needs_a_key_of_its_algorithm():
    with pytest.raises(ValidationError, match="at least 32 characters"):
        DeploymentBody(allowed_origins=[SITE], authenticated={"enabled": True, "secret": "short"})
    with pytest.raises(ValidationError, match="PEM"):
        DeploymentBody(allowed_origins=[SITE], authenticated={"enabled": True, "algorithm": "RS256"})
    kept = validated("deployment", {"allowed_origins": [SITE],
                                    "authenticated": {"enabled": True, "secret": "s" * 32}})
    assert kept["authenticated"]["secret"] == "s" * 32   # kept as given, not dumped as ****


def test_business_hours_are_local_to_their_time_zone():
    hours = Hours(timezone="Europe/Madrid", weekly={"mon": [("09:00", "13:00"), ("15:00", "18:00")]})
    assert hours.open_at(_ms("2026-11-30T08:30:00+00:00"))        # Monday 09:30 in Madrid
    assert not hours.open_at(_ms("2026-11-30T12:30:00+00:00"))    # 13:30: the lunch gap
    assert not hours.open_at(_ms("2026-11-30T07:59:00+00:00"))    # 08:59
    assert not hours.open_at(_ms("2026-12-01T08:30:00+00:00"))    # Tuesday: not listed, closed
    with pytest.raises(ValidationError, match="unknown time zone"):
        Hours(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="must start before it ends"):
        Hours(weekly={"fri": [("18:00", "09:00")]})


def test_a_deployment_is_a_web_channel_account_with_its_window():
    body = validated("deployment", {"allowed_origins": [SITE], "window_hours": 2, "enabled": False})
    account = account_of("acme", "acme-site", body)
    assert (account.channel, account.account_id, account.tenant_id) == ("web", "acme-site", "acme")
    assert account.window_hours == 2 and account.allowed_origins == [SITE] and not account.enabled


def test_an_entry_point_names_a_channel_account_and_a_campaign():
    with pytest.raises(ValidationError, match="campaign"):
        EntryPointBody(channel="messenger", account_id="104729385610293", campaign="")
    with pytest.raises(ValidationError, match="channel"):
        EntryPointBody(channel="fax", account_id="1", campaign="spring")
    assert EntryPointBody(channel="whatsapp", account_id="109", campaign="spring", ad_ids=["120"]).ad_ids == ("120",)
