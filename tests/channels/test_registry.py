"""The channel registry: every declared channel is complete, and the registry matches the contract."""
import json
import typing

import pytest

from channels.account import ChannelAccount
from channels.registry import CHANNELS, resolve, rules
from connectors.simulators.base import Platform
from schemas.registry import COMMON_DIR
from switchboard.accounts import load_accounts
from tests.connectors.helpers import FIXTURES

SERVED = [name for name, spec in CHANNELS.items() if spec.connector]
# Our own widget: no platform signs anything, the guest socket is the way in (connectors/web.py).
UNSIGNED = {"web"}
TEST_ACCOUNTS = {a.channel for a in load_accounts(FIXTURES / "connectors" / "accounts.yaml")}


def test_the_registry_holds_the_avro_channel_enum_symbols_in_order():
    # Channel.avsc is frozen data: a channel new to the contract needs its symbol (and a new schema
    # version of each subject using it); `unknown` is the enum's default for readers of old versions.
    enum = json.loads((COMMON_DIR / "Channel.avsc").read_text())
    assert [s for s in enum["symbols"] if s != enum["default"]] == list(CHANNELS)


def test_every_declared_channel_is_served():
    assert set(CHANNELS) == set(SERVED)


@pytest.mark.parametrize("name", CHANNELS)
def test_every_channel_declares_its_account_model_capabilities_and_window_rule(name):
    spec = rules(name)
    assert spec.channel == name
    assert issubclass(spec.account, ChannelAccount)
    assert typing.get_args(spec.account.model_fields["channel"].annotation) == (name,)
    assert all(field in spec.account.model_fields for field in spec.account._signing_secret_fields)
    assert spec.content.get("text") is True or spec.content.get("text", 0) > 0
    assert all(isinstance(allowed, (bool, int)) for allowed in spec.content.values())
    assert callable(spec.window_rule)


@pytest.mark.parametrize("name", SERVED)
def test_every_served_channel_has_its_connector_signature_and_simulator(name):
    spec = rules(name)
    assert resolve(spec.connector)().channel == name
    if name in UNSIGNED:
        assert spec.signature is None and not spec.account._signing_secret_fields
    else:
        assert spec.signature is not None and spec.account._signing_secret_fields
    simulator = resolve(spec.simulator)
    assert issubclass(simulator, Platform) and simulator.channel == name


@pytest.mark.parametrize("name", SERVED)
def test_every_served_channel_has_its_fixtures_and_a_test_account(name):
    webhooks = sorted(p.stem for p in (FIXTURES / "webhooks" / name).glob("*.json"))
    assert {"text", "redelivery"} <= set(webhooks), f"tests/fixtures/webhooks/{name}/ needs text.json and redelivery.json"
    missing = [w for w in webhooks if not (FIXTURES / "normalized" / name / f"{w}.json").exists()]
    assert not missing, f"webhooks without their expected events in tests/fixtures/normalized/{name}/: {missing}"
    messages = sorted((FIXTURES / "outbound" / name).glob("*.message.json"))
    assert messages, f"tests/fixtures/outbound/{name}/ has no <name>.message.json → <name>.request.json pair"
    assert all(m.with_name(m.name.replace(".message.", ".request.")).exists() for m in messages)
    assert name in TEST_ACCOUNTS, f"tests/fixtures/connectors/accounts.yaml has no {name} account"


def test_an_unknown_channel_is_named_with_the_known_ones():
    with pytest.raises(KeyError, match="unknown channel 'fax'; known: web, messenger"):
        rules("fax")
