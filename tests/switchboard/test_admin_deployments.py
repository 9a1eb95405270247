"""`switchboard admin deployment …` against the session broker: deployments as directory data."""
from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pytest

from switchboard import cli
from switchboard.admin_cli import Admin, _parser
from switchboard.errors import UserError
from switchboard.settings import load_settings
from tests.kafka_fixture import wait_until

pytestmark = pytest.mark.kafka
SECRET = "an-hs256-secret-of-the-acme-site-0123456789"
HOURS = """\
timezone: Europe/Madrid
weekly:
  mon: [["09:00", "13:00"], ["14:00", "18:00"]]
  sat: [["10:00", "14:00"]]
"""


@pytest.fixture(scope="module")
def directory(kafka_bootstrap, tmp_path_factory):
    """One admin (its view follows the directory) and the parser, as `switchboard admin` builds them."""
    settings = load_settings().model_copy(update={"kafka_bootstrap": kafka_bootstrap,
                                                  "data_dir": tmp_path_factory.mktemp("data")})
    admin = Admin(settings)
    yield admin, _parser(settings)
    admin.close()


@pytest.fixture
def view(directory):
    return directory[0].view


@pytest.fixture
def ids():
    run = uuid.uuid4().hex[:8]
    return f"t{run}", f"site-{run}"


@pytest.fixture
def admin(directory):
    """Run one `switchboard admin deployment …` command: its result (True: something was written)."""
    admin, parser = directory
    return lambda *argv: (args := parser.parse_args(["deployment", *argv])).handler(admin, args)


def test_create_then_set_changes_only_what_is_given_and_show_never_prints_the_secret(
        view, ids, admin, monkeypatch, tmp_path):
    tenant, site = ids
    hours = tmp_path / "hours.yaml"
    hours.write_text(HOURS)
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert admin("create", "--tenant", tenant, site, "--origin", "https://www.acme.example",
                 "--origin", "http://localhost:8080", "--window-hours", "24", "--max-file-mb", "2",
                 "--name", "Acme Bank", "--colour", "#0f766e", "--prechat", "name", "--prechat", "email",
                 "--hours-file", str(hours), "--jwt-hs256-secret-stdin", "--jwt-audience", site) is True
    created = wait_until(lambda: view.deployment(site), 15, "the deployment")[1]
    assert created["allowed_origins"] == ["https://www.acme.example", "http://localhost:8080"]
    assert created["max_file_bytes"] == 2 * 1024 * 1024 and created["prechat"] == ["name", "email"]
    assert created["hours"]["weekly"]["mon"] == [["09:00", "13:00"], ["14:00", "18:00"]]
    assert created["authenticated"] == {"enabled": True, "algorithm": "HS256", "secret": SECRET, "public_key": None,
                                        "issuer": None, "audience": site, "required": False}

    assert admin("set", "--tenant", tenant, site, "--window-hours", "0.01", "--greeting", "Hola") is True
    changed = wait_until(lambda: view.deployment(site)[1]["window_hours"] == 0.01 and view.deployment(site)[1],
                         15, "the change")
    assert changed["look"] == {**created["look"], "greeting": "Hola"}
    assert {k: v for k, v in changed.items() if k not in ("window_hours", "look")} == \
        {k: v for k, v in created.items() if k not in ("window_hours", "look")}
    assert admin("set", "--tenant", tenant, site, "--window-hours", "0.01") is False   # already so

    shown, listed = admin("show", "--tenant", tenant, site), admin("list", "--tenant", tenant)
    assert shown["authenticated"]["secret"] == "****" and [d["id"] for d in listed] == [site]
    assert SECRET not in json.dumps([shown, listed])


def test_ids_are_global_and_mistakes_name_their_fix(view, ids, admin, tmp_path):
    tenant, site = ids
    admin("create", "--tenant", tenant, site, "--origin", "http://127.0.0.1:8080")
    wait_until(lambda: view.deployment(site), 15, "the deployment")
    for argv, says in [
        (("create", "--tenant", "other", site, "--origin", "https://b.example"), f"exists in tenant '{tenant}'"),
        (("set", "--tenant", "other", site, "--name", "B"), "deployment list --tenant other"),
        (("set", "--tenant", tenant, site, "--window-hours", "100"), "window_hours"),
        (("set", "--tenant", tenant, site, "--origin", "https://b.example/path"), "no path"),
        (("set", "--tenant", tenant, site, "--jwt-required"), "--jwt-hs256-secret-stdin"),
        (("set", "--tenant", tenant, site, "--jwt-rs256-public-key", str(tmp_path / "nope.pem")), "cannot read"),
        (("create", "--tenant", tenant, f"{site}-2"), "--origin"),
    ]:
        with pytest.raises(UserError, match=re.escape(says)):
            admin(*argv)


def test_the_command_line_prints_a_mistake_in_one_line(kafka_bootstrap, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path))
    assert cli.main(["admin", "deployment", "show", "--tenant", "nobody", "no-such-site"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no deployment 'no-such-site'" in err


def test_disable_enable_and_remove(view, ids, admin, tmp_path):
    tenant, site = ids
    key = tmp_path / "site.pem"
    key.write_text(_public_key_pem())
    admin("create", "--tenant", tenant, site, "--origin", "http://127.0.0.1:8080",
          "--jwt-rs256-public-key", str(key), "--jwt-required")
    body = wait_until(lambda: view.deployment(site), 15, "the deployment")[1]
    assert body["authenticated"]["algorithm"] == "RS256" and body["authenticated"]["required"] is True
    assert admin("disable", "--tenant", tenant, site) is True
    wait_until(lambda: view.deployment(site)[1]["enabled"] is False, 15, "disabled")
    assert admin("enable", "--tenant", tenant, site) is True
    wait_until(lambda: view.deployment(site)[1]["enabled"] is True, 15, "enabled")
    assert admin("remove", "--tenant", tenant, site) is True
    wait_until(lambda: view.deployment(site) is None, 15, "the tombstone")


def _public_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_the_seed_refuses_a_deployment_id_another_tenant_holds(view, ids, admin, directory, tmp_path):
    from switchboard.seed import seed

    tenant, site = ids
    admin("create", "--tenant", tenant, site, "--origin", "http://127.0.0.1:8080")
    wait_until(lambda: view.deployment(site), 15, "the deployment")
    people = tmp_path / "people.yaml"
    people.write_text(f"tenants:\n  other-{tenant}:\n    deployments:\n"
                      f"      {site}: {{allowed_origins: ['https://b.example']}}\n")
    with pytest.raises(UserError, match=f"exists in tenant '{tenant}'.*rename it"):
        seed(directory[0], tmp_path / "no-routing", people)
    assert view.deployment(site)[0] == tenant
