"""The secrets scan of `make run` (tests/integration/secret_scan.py) finds what it looks for: a
secret of the accounts file or of the data directory anywhere, any session token, and never a
documented demo password or the secret files themselves."""
from pathlib import Path

from switchboard.auth import Principal, Tokens
from tests.integration.secret_scan import data_files, leaks, run_secrets

REPO = Path(__file__).resolve().parents[2]


def test_the_scan_finds_every_kind_of_secret_and_excepts_only_the_demo_passwords_and_secret_files(tmp_path):
    (tmp_path / "auth-secret").write_text("a" * 48 + "\n")
    (tmp_path / "clickhouse-secret").write_text("clickhouse-password-of-the-run")
    secrets = run_secrets(tmp_path, REPO / "deploy" / "accounts.yaml")
    assert {"auth-secret", "clickhouse-secret", "acme/whatsapp/109876543210987.access_token"} <= set(secrets)
    token, _ = Tokens(b"a" * 48, 60).issue(Principal("sofia", "acme", "supervisor", "s-1"))
    (tmp_path / "kafka" / "logs").mkdir(parents=True)
    (tmp_path / "kafka" / "logs" / "server.log").write_bytes(b"... Authorization: Bearer demo-line-channel-access-token")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "clean.bin").write_bytes(b"\x00\x01 demo-password-alice (printed for the demo)")
    places = [("the output", f"signed in: {token}\ntenant acme agent alice password demo-password-alice".encode()),
              ("topic access-audit", b"\x00clickhouse-password-of-the-run\x02"), *data_files(tmp_path)]
    assert leaks(secrets, places) == [
        "a session token in the output", "acme/line/U4af4980629a1b2c3d4e5f60718293a4b.access_token in kafka/logs/server.log",
        "clickhouse-secret in topic access-audit"]
