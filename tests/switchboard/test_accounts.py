"""Channel accounts are data: validated YAML, ${ENV} secrets, rotation, clear errors."""
from pathlib import Path

import pytest

from switchboard.accounts import load_accounts
from switchboard.settings import PROJECT_ROOT, ConfigError

DEMO = PROJECT_ROOT / "deploy" / "accounts.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(text)
    return path


def test_the_demo_file_has_one_account_per_platform_channel():
    accounts = load_accounts(DEMO)   # web's accounts are deployments, in the directory (deploy/people.yaml)
    assert sorted(a.channel for a in accounts) == ["line", "messenger", "open", "whatsapp", "x"]
    assert all(a.tenant_id == "acme" for a in accounts)


def test_secrets_come_from_the_environment_and_rotation_accepts_both(tmp_path, monkeypatch):
    monkeypatch.setenv("LINE_SECRET", "new-secret")
    path = write(tmp_path, """
tenants:
  acme:
    accounts:
      - channel: line
        account_id: Ubot
        channel_secret: ${LINE_SECRET}
        previous_channel_secret: old-secret
        access_token: tok
        window_hours: 1
""")
    account = load_accounts(path).get("line", "Ubot")
    assert account.signing_secrets() == [b"new-secret", b"old-secret"]
    assert account.window_hours == 1 and "new-secret" not in repr(account)


def test_a_missing_environment_variable_is_named(tmp_path):
    path = write(tmp_path, "tenants: {acme: {accounts: [{channel: x, account_id: '1', consumer_secret: '${NOPE_X}', access_token: t}]}}")
    with pytest.raises(ConfigError, match="NOPE_X is not set"):
        load_accounts(path)


@pytest.mark.parametrize("account,problem", [
    ("{channel: line, account_id: U1, access_token: t}", "channel_secret"),
    ("{channel: line, account_id: U1, channel_secret: s, access_token: t, window_hours: 100}", "window_hours"),
    ("{channel: fax, account_id: U1}", "channel"),
    ("{channel: line, account_id: 'a/b', channel_secret: s, access_token: t}", "account_id"),
])
def test_invalid_accounts_are_refused_naming_the_field(tmp_path, account, problem):
    with pytest.raises(ConfigError, match=problem):
        load_accounts(write(tmp_path, f"tenants: {{acme: {{accounts: [{account}]}}}}"))


def test_the_same_account_twice_is_refused(tmp_path):
    one = "{channel: x, account_id: '1', consumer_secret: s, access_token: t}"
    with pytest.raises(ConfigError, match="listed twice"):
        load_accounts(write(tmp_path, f"tenants: {{a: {{accounts: [{one}]}}, b: {{accounts: [{one}]}}}}"))


def test_unknown_and_disabled_accounts_are_not_found(tmp_path):
    path = write(tmp_path, "tenants: {acme: {accounts: [{channel: x, account_id: '1', consumer_secret: s, access_token: t, enabled: false}]}}")
    accounts = load_accounts(path)
    assert accounts.get("x", "1") is None and accounts.get("x", "2") is None


def test_a_missing_file_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="SWITCHBOARD_ACCOUNTS_FILE"):
        load_accounts(tmp_path / "nope.yaml")
