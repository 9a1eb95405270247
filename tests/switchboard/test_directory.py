"""The directory: entries validated by kind, written and followed live, admin commands, seeding."""
from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest

from schemas import Codec
from streams.routing.sources import DirectoryConfigs
from switchboard import cli
from switchboard.auth import verify_password
from switchboard.directory import DirectoryView, DirectoryWriter, validated
from switchboard.errors import UserError
from tests.kafka_fixture import wait_until

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kafka


def _until(predicate):
    return wait_until(predicate, 15, "the directory view to catch up")


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def directory(kafka_bootstrap):
    conf, codec = {"bootstrap.servers": kafka_bootstrap}, Codec()
    view, writer = DirectoryView(conf, codec).start(), DirectoryWriter(conf, codec)
    view.wait_ready()
    yield view, writer
    view.close()
    writer.close()


@pytest.fixture
def admin_env(kafka_bootstrap, monkeypatch, tmp_path):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path))


def test_a_body_is_checked_by_its_kind_and_the_error_names_the_field():
    with pytest.raises(UserError, match="role"):
        validated("person", {"name": "Ann", "role": "boss"})
    with pytest.raises(UserError, match="unknown directory kind 'gadget'"):
        validated("gadget", {})
    assert validated("canned_response", {"title": "Hi", "text": "Hello"})["queue"] is None


def test_entries_are_followed_live_and_a_tombstone_deletes(directory, tenant):
    view, writer = directory
    writer.put(tenant, "person", "ann", {"name": "Ann", "role": "agent", "queues": ["general"]}, "test")
    assert _until(lambda: view.person(tenant, "ann"))["queues"] == ["general"]
    writer.put(tenant, "person", "ann", {"name": "Ann", "role": "agent", "queues": ["cards"]}, "test")
    _until(lambda: view.person(tenant, "ann")["queues"] == ["cards"])
    writer.put(tenant, "session_revoked", "s-1", {"expires_at": 1}, "test")
    _until(lambda: view.revoked("s-1"))
    writer.put(tenant, "person", "ann", None, "test")
    _until(lambda: view.person(tenant, "ann") is None)
    assert view.people(tenant) == []


def test_a_new_view_reads_the_whole_topic_before_it_is_ready(directory, kafka_bootstrap, tenant):
    _, writer = directory
    writer.put(tenant, "canned_response", "hi", {"title": "Hi", "text": "Hello!", "queue": "cards"}, "test")
    late = DirectoryView({"bootstrap.servers": kafka_bootstrap}, Codec()).start()
    try:
        late.wait_ready()
        assert [c["id"] for c in late.canned(tenant, "cards")] == ["hi"]
        assert late.canned(tenant, "billing") == []
    finally:
        late.close()


def test_admin_adds_a_person_with_a_hashed_password_and_changes_only_what_is_given(
        admin_env, directory, tenant, monkeypatch, capsys):
    view, _ = directory
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert cli.main(["admin", "people", "add", "--tenant", tenant, "ann", "--name", "Ann Lee",
                     "--password-stdin", "--skill", "cards=3", "--queue", "general"]) == 0
    person = _until(lambda: view.person(tenant, "ann"))
    assert verify_password(person["password_hash"], "correct horse battery")
    assert "correct horse" not in json.dumps(person)
    assert cli.main(["admin", "people", "set", "--tenant", tenant, "ann", "--skill", "billing=2"]) == 0
    changed = _until(lambda: view.person(tenant, "ann")["skills"] == {"billing": 2} and view.person(tenant, "ann"))
    assert changed["queues"] == ["general"] and changed["password_hash"] == person["password_hash"]
    capsys.readouterr()
    assert cli.main(["admin", "people", "set", "--tenant", tenant, "nobody", "--name", "X"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no person 'nobody'" in err and "people list" in err


def test_seeding_twice_writes_nothing_the_second_time(admin_env, directory, tenant, tmp_path, capsys):
    view, _ = directory
    routing = tmp_path / "routing"
    routing.mkdir()
    (routing / f"{tenant}.yaml").write_text((REPO / "deploy/routing/acme.yaml").read_text())
    people = tmp_path / "people.yaml"
    people.write_text((REPO / "deploy/people.yaml").read_text().replace("  acme:", f"  {tenant}:")
                      .replace("acme-website", f"{tenant}-website"))   # deployment ids are global
    args = ["admin", "seed", "--routing-dir", str(routing), "--people", str(people)]
    assert cli.main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["written"] > 10
    _until(lambda: len(view.people(tenant)) == 10 and len(view.canned(tenant)) == 2)
    _until(lambda: view.deployment(f"{tenant}-website") and len(view.all(tenant, "entry_point")) == 3)
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out) == {"written": 0, "unchanged": first["written"] + first["unchanged"] - 1}
    alice = view.person(tenant, "alice")
    assert verify_password(alice["password_hash"], "demo-password-alice") and alice["role"] == "agent"
    assert view.person(tenant, "agent-ana")["password_hash"] is None   # routed, cannot sign in


def test_routing_configs_follow_the_directory_without_a_restart(directory, tenant):
    view, writer = directory
    configs = DirectoryConfigs(view)
    assert configs.get(tenant).default_queue == "general"      # no entry: the default, not a dead letter
    writer.put(tenant, "routing", "config", {"default_queue": "vip", "queues": {"vip": {}, "general": {}}}, "t")
    writer.put(tenant, "person", "ann", {"name": "Ann", "role": "agent", "queues": ["vip"], "skills": {"x": 2}}, "t")
    writer.put(tenant, "person", "sue", {"name": "Sue", "role": "supervisor"}, "t")
    config = _until(lambda: "ann" in configs.get(tenant).agents and configs.get(tenant))
    assert config.default_queue == "vip" and set(config.agents) == {"ann"} and config.agents["ann"].skills == {"x": 2}
    writer.put(tenant, "person", "ann", {"name": "Ann", "role": "agent", "queues": ["vip"], "disabled": True}, "t")
    _until(lambda: "ann" not in configs.get(tenant).agents)
    before = view.routing_version(tenant)
    writer.put(tenant, "session_revoked", f"s-{tenant}", {"expires_at": 1}, "t")
    _until(lambda: view.revoked(f"s-{tenant}"))
    assert view.routing_version(tenant) == before and configs.get(tenant) is configs.get(tenant)


def test_a_deployment_is_found_by_its_id_and_becomes_a_web_account(directory, tenant, tmp_path):
    from switchboard.accounts import WithDeployments, load_accounts

    view, writer = directory
    site = f"{tenant}-site"
    file = tmp_path / "accounts.yaml"
    file.write_text("tenants:\n  other:\n    accounts:\n      - {channel: web, account_id: static-site}\n")
    accounts = WithDeployments(load_accounts(file), view)
    assert accounts.get("web", site) is None and accounts.get("web", "static-site").tenant_id == "other"
    writer.put(tenant, "deployment", site, {"allowed_origins": ["https://a.example"], "window_hours": 1}, "test")
    _until(lambda: accounts.get("web", site))
    assert view.deployment(site)[0] == tenant
    assert (accounts.get("web", site).tenant_id, accounts.get("web", site).window_hours) == (tenant, 1)
    writer.put(tenant, "deployment", site, {"allowed_origins": ["https://a.example"], "enabled": False}, "test")
    _until(lambda: accounts.get("web", site) is None)   # disabled: no account, like a disabled file entry
    writer.put(tenant, "deployment", site, None, "test")
    _until(lambda: view.deployment(site) is None)
