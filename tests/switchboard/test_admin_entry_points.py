"""`switchboard admin entry-point …` against the real broker: links on create, the channel account
checked, one-line errors, and the entries the conversation processor resolves referrals with."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from switchboard import cli
from switchboard.admin_cli import Admin, _parser
from switchboard.errors import UserError
from switchboard.settings import load_settings
from tests.kafka_fixture import wait_until

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "entry_points" / "accounts.yaml"
pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def tenant(kafka_bootstrap, tmp_path_factory) -> str:
    name, data = f"t{uuid.uuid4().hex[:10]}", tmp_path_factory.mktemp("entry-points")
    (data / "accounts.yaml").write_text(FIXTURE.read_text().replace("TENANT", name))
    with pytest.MonkeyPatch.context() as env:
        for variable, value in (("KAFKA_BOOTSTRAP", kafka_bootstrap), ("DATA_DIR", str(data)),
                                ("ACCOUNTS_FILE", str(data / "accounts.yaml"))):
            env.setenv(f"SWITCHBOARD_{variable}", value)
        yield name


@pytest.fixture(scope="module")
def admin(tenant):
    """One caught-up Admin for the module (each `switchboard admin` process builds its own)."""
    made = Admin(load_settings())
    yield made
    made.close()


def run(admin, *args: str):
    """One `switchboard admin entry-point …` command's result, run with the module's Admin."""
    parsed = _parser(load_settings()).parse_args(["entry-point", *args])
    return parsed.handler(admin, parsed)


def test_create_prints_the_link_and_the_entry_resolves_by_id_and_by_ad(tenant, admin):
    made = run(admin, "create", "--tenant", tenant, "spring-sale", "--channel", "messenger",
               "--account", "104729385610293", "--campaign", "spring-2026", "--ad-id", "23851234567890123")
    assert made["link"] == "https://m.me/104729385610293?ref=spring-sale"
    assert made["campaign"] == "spring-2026" and made["ad_ids"] == ["23851234567890123"]
    view = admin.view
    wait_until(lambda: view.entry_point(tenant, "spring-sale"), 15, "the entry point in the directory")
    assert view.entry_point_of_ad(tenant, "23851234567890123")["campaign"] == "spring-2026"
    changed = run(admin, "set", "--tenant", tenant, "spring-sale", "--campaign", "spring-2026-b")
    assert changed["ad_ids"] == ["23851234567890123"] and changed["account_id"] == "104729385610293"
    wait_until(lambda: view.entry_point(tenant, "spring-sale")["campaign"] == "spring-2026-b", 15, "the change")
    assert run(admin, "link", "--tenant", tenant, "spring-sale")["link"] == made["link"]
    assert "spring-sale" in [e["id"] for e in run(admin, "list", "--tenant", tenant)]
    assert run(admin, "remove", "--tenant", tenant, "spring-sale") is True
    wait_until(lambda: view.entry_point(tenant, "spring-sale") is None, 15, "the tombstone")


def test_a_web_entry_point_needs_the_tenants_deployment_and_links_to_its_site(tenant, admin):
    deployment = f"site-{uuid.uuid4().hex[:8]}"
    args = ["create", "--tenant", tenant, "welcome", "--channel", "web", "--account", deployment, "--campaign", "w"]
    with pytest.raises(UserError, match=f"no web deployment '{deployment}'"):
        run(admin, *args)
    admin.writer.put(tenant, "deployment", deployment, {"allowed_origins": ["https://www.acme.example"]}, "test")
    wait_until(lambda: admin.view.deployment(deployment), 15, "the deployment")
    made = run(admin, *args)
    assert made["link"] == "https://www.acme.example/?switchboard_entry=welcome"
    assert made["snippet"] == 'Switchboard("open", {entryPoint: "welcome"})'


@pytest.mark.parametrize("args,message", [
    (["--channel", "x", "--account", "999", "--campaign", "c"], "no x account '999' for tenant"),
    (["--channel", "whatsapp", "--account", "109876543210999", "--campaign", "c"], "has no display_phone_number"),
    (["--channel", "messenger", "--account", "104729385610293", "--campaign", ""], "campaign"),
])
def test_what_cannot_be_linked_is_refused_and_not_written(tenant, admin, args, message):
    with pytest.raises(UserError, match=message):
        run(admin, "create", "--tenant", tenant, "bad", *args)
    assert admin.view.entry_point(tenant, "bad") is None


def test_an_ad_means_one_entry_point_and_ids_must_fit_a_link(tenant, admin):
    common = ["--channel", "whatsapp", "--account", "109876543210987", "--campaign", "c", "--ad-id", "120210000000001"]
    run(admin, "create", "--tenant", tenant, "first", *common)
    wait_until(lambda: admin.view.entry_point(tenant, "first"), 15, "the first entry point")
    with pytest.raises(UserError, match="already means entry point 'first'"):
        run(admin, "create", "--tenant", tenant, "second", *common)
    with pytest.raises(UserError, match="cannot be an entry point id"):
        run(admin, "create", "--tenant", tenant, "a b", *common[:-2])


def test_the_command_prints_json_and_a_mistake_is_one_line(tenant, capsys):
    assert cli.main(["admin", "entry-point", "create", "--tenant", tenant, "dm", "--channel", "x",
                     "--account", "1466859271035789312", "--campaign", "support", "--text", "Hi"]) == 0
    assert json.loads(capsys.readouterr().out)["link"].startswith("https://twitter.com/messages/compose?")
    assert cli.main(["admin", "entry-point", "show", "--tenant", tenant, "nothing"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no entry point 'nothing'" in error and "entry-point list" in error
