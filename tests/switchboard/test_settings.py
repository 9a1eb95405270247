"""Settings: read once from SWITCHBOARD_*, frozen, secrets masked, wrong combinations refused."""
import pytest
from pydantic import ValidationError

from switchboard.settings import ConfigError, load_settings, mask_url


def test_environment_is_read_with_the_prefix(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", "broker-1:9092")
    monkeypatch.setenv("SWITCHBOARD_THREADING_WINDOW_HOURS", "24")
    settings = load_settings()
    assert settings.kafka_bootstrap == "broker-1:9092" and settings.threading_window_hours == 24


def test_settings_are_frozen():
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.kafka_bootstrap = "elsewhere:9092"


def test_secrets_are_masked_when_printed(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_SCHEMA_REGISTRY_URL", "http://registry:8081")
    monkeypatch.setenv("SWITCHBOARD_SCHEMA_REGISTRY_USER", "sb")
    monkeypatch.setenv("SWITCHBOARD_SCHEMA_REGISTRY_PASSWORD", "hunter2-very-secret")
    settings = load_settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.masked())
    assert settings.schema_registry_password.get_secret_value() == "hunter2-very-secret"


@pytest.mark.parametrize("url,shown", [
    ("https://sb:hunter2@ch.example.com:8443/facts", "https://sb:****@ch.example.com:8443/facts"),
    ("http://ch:8123/?user=sb&password=hunter2", "http://ch:8123/?user=sb&password=****"),
    ("http://ch:8123/?access_token=hunter2&database=facts", "http://ch:8123/?access_token=****&database=facts"),
    ("http://sb@ch:8123", "http://sb@ch:8123"),
    ("http://sb:p@ss@ch", "http://sb:****@ch"),
])
def test_credentials_inside_urls_are_masked(url, shown):
    assert mask_url(url) == shown


def test_printed_settings_mask_every_url_credential(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_URL", "https://sb:hunter2@ch.example.com:8443")
    monkeypatch.setenv("SWITCHBOARD_SCHEMA_REGISTRY_URL", "https://registry/?password=hunter2")
    masked = load_settings().masked()
    assert "hunter2" not in str(masked)
    assert masked["clickhouse_url"] == "https://sb:****@ch.example.com:8443"


def test_the_embedded_engine_takes_a_password_of_its_own(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_PASSWORD", "writer-secret")
    monkeypatch.setenv("SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD", "reader-secret")
    settings = load_settings()
    assert settings.clickhouse_url is None and settings.clickhouse_readonly_user == "readonly"
    assert "reader-secret" not in str(settings.masked())


@pytest.mark.parametrize("env,fix", [
    ({"SWITCHBOARD_THREADING_WINDOW_HOURS": "96"}, "SWITCHBOARD_THREADING_WINDOW_HOURS to 72 or less"),
    ({"SWITCHBOARD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SWITCHBOARD_KAFKA_SASL_USERNAME"),
    ({"SWITCHBOARD_KAFKA_SASL_MECHANISM": "PLAIN"}, "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL=SASL_SSL"),
    ({"SWITCHBOARD_SCHEMA_REGISTRY_USER": "u", "SWITCHBOARD_SCHEMA_REGISTRY_PASSWORD": "p"},
     "set SWITCHBOARD_SCHEMA_REGISTRY_URL"),
    ({"SWITCHBOARD_CLICKHOUSE_URL": "http://ch:8123", "SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD": "p"},
     "unset SWITCHBOARD_CLICKHOUSE_READONLY_PASSWORD"),
    ({"SWITCHBOARD_CLICKHOUSE_READONLY_USER": "default"}, "change SWITCHBOARD_CLICKHOUSE_USER"),
    ({"SWITCHBOARD_KAFKA_PORT": "9500", "SWITCHBOARD_KAFKA_CONTROLLER_PORT": "9500"}, "differ"),
    ({"SWITCHBOARD_EDGE_PORT": "http"}, "SWITCHBOARD_EDGE_PORT"),
])
def test_wrong_combinations_are_refused_with_the_fix(monkeypatch, env, fix):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="invalid settings") as refused:
        load_settings()
    assert fix in str(refused.value)


def test_kafka_client_config_carries_sasl_credentials(monkeypatch):
    for name, value in {"SECURITY_PROTOCOL": "SASL_SSL", "SASL_MECHANISM": "SCRAM-SHA-512",
                        "SASL_USERNAME": "sb", "SASL_PASSWORD": "s3cret"}.items():
        monkeypatch.setenv(f"SWITCHBOARD_KAFKA_{name}", value)
    conf = load_settings().kafka_client_config()
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512" and conf["sasl.password"] == "s3cret"


def test_a_malformed_fault_point_is_refused_with_its_format():
    with pytest.raises(ConfigError, match=r"SWITCHBOARD_FAULT_POINT to <processor>:<produced\|written>:<n>"):
        load_settings(fault_point="route_conversations:later:1")
    assert load_settings(fault_point="route_conversations:written:3:acme").fault_point.endswith(":acme")
