"""Connectors without I/O: signatures, handshakes and parsing of every webhook fixture."""
import json

import pytest

from connectors.base import ParseError
from connectors.registry import CONNECTORS
from tests.connectors.helpers import (CHANNELS, FIXTURES, SECRETS, WEBHOOKS, golden, load_test_accounts, prune,
                                      signed_headers, webhook)

FILES = sorted((p.parent.name, p.stem) for c in CHANNELS for p in (FIXTURES / "webhooks" / c).glob("*.json"))


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return load_test_accounts(tmp_path_factory.mktemp("accounts"), "acme")


def account(accounts, channel):
    return next(a for a in accounts if a.channel == channel)


@pytest.mark.parametrize("channel,name", FILES)
def test_every_fixture_parses_to_its_normalized_events(accounts, channel, name):
    parsed = CONNECTORS[channel].parse(account(accounts, channel), webhook(channel, name), 1741950000000)
    expected = golden(channel, name)
    assert all(m.pop("received_at") == 1741950000000 for m in parsed.messages)
    assert prune(parsed.messages) == expected["messages"]
    assert prune(parsed.statuses) == expected["statuses"]
    assert prune(parsed.account_events) == expected.get("account_events", [])
    assert {"echoes": parsed.echoes, "unsupported": parsed.unsupported, "ignored": parsed.ignored} == expected["counts"]


def test_the_fixtures_cover_every_channel_and_the_goldens_are_not_empty():
    assert {c for c, _ in FILES} == set(CHANNELS) and len(FILES) >= 70
    produced = sum(len(golden(c, n)["messages"]) + len(golden(c, n)["statuses"]) for c, n in FILES)
    assert produced >= 70


@pytest.mark.parametrize("channel", CHANNELS)
def test_redelivery_keeps_the_event_id_so_downstream_dedupe_can_drop_it(accounts, channel):
    first, again = golden(channel, "text")["messages"][0], golden(channel, "redelivery")["messages"][0]
    assert again["event_id"] == first["event_id"]
    assert again["platform_message_id"] == first["platform_message_id"]
    # LINE says so explicitly; the others resend identical bytes.
    assert again.get("redelivery", False) is (channel == "line")


@pytest.mark.parametrize("channel", WEBHOOKS)
def test_signature_with_the_current_or_previous_secret_passes_and_a_forgery_fails(accounts, channel):
    body, connector, acct = webhook(channel, "text"), CONNECTORS[channel], account(accounts, channel)
    previous = SECRETS[channel].replace("app-secret", "previous-secret").replace("channel-secret", "previous-secret")
    previous = previous.replace("consumer-secret", "previous-secret").replace("inbound-secret", "previous-secret")
    assert connector.verify(acct, signed_headers(channel, body), body)
    assert connector.verify(acct, signed_headers(channel, body, previous), body)
    assert not connector.verify(acct, signed_headers(channel, body, "forged"), body)
    assert not connector.verify(acct, signed_headers(channel, body), body + b" ")
    assert not connector.verify(acct, {}, body)


@pytest.mark.parametrize("channel,name,header,value", [
    ("messenger", "text", "X-Hub-Signature-256", "sha256=6405dfb48d625b6f599590ca1ddded387d806201d57ef9ff8d8f0a11dfd42d4b"),
    ("messenger", "text_emoji", "X-Hub-Signature-256", "sha256=8e2ed0540bd2d88ee1bdd966769897993513b983ec4a8c772570b9911d25b879"),
    ("whatsapp", "text", "X-Hub-Signature-256", "sha256=72ec3fd1025808e9d17d7ecac04a617793fc36948e2f7b9a454963c272cfb6c6"),
    ("line", "text", "x-line-signature", "TkD8zEK598jt2qIeQC+wfiBjclp9KugyekI+yF5AHFI="),
    ("line", "verify_empty", "x-line-signature", "Fl5/BGoAZ2nLZu3fXihuJ0lH08sGkST9+aNPArsOmRA="),
    ("x", "text", "x-twitter-webhooks-signature", "sha256=at4dMdxi6EyJbjG4D7dPE39QvdpuPtF0xFtjpAiiuLI="),
    ("open", "text", "X-Hub-Signature-256", "sha256=oUyqg9VAGEs0lANhMVOkZnY9tMauZ8Anstt097Fqkr8="),
])
def test_the_fixture_readmes_example_signatures_verify(accounts, channel, name, header, value):
    assert CONNECTORS[channel].verify(account(accounts, channel), {header: value}, webhook(channel, name))


@pytest.mark.parametrize("channel", ["messenger", "whatsapp"])
def test_meta_handshake_echoes_the_challenge_only_for_our_verify_token(accounts, channel):
    acct = account(accounts, channel)
    ok = {"hub.mode": "subscribe", "hub.verify_token": f"test-{channel}-verify-token", "hub.challenge": "1158201444"}
    assert CONNECTORS[channel].handshake(acct, ok) == (200, "1158201444", "text/plain")
    assert CONNECTORS[channel].handshake(acct, {**ok, "hub.verify_token": "guess"})[0] == 403
    assert CONNECTORS[channel].handshake(acct, {}) is None


def test_x_crc_answers_the_readmes_response_token(accounts):
    status, body, content_type = CONNECTORS["x"].handshake(account(accounts, "x"), {"crc_token": "challenge-1741944413"})
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"response_token": "sha256=J8TZCD9oAaTnf2oEgCJb2FJ8r7VYJhjNjhs6K4POiiw="}


@pytest.mark.parametrize("channel,body", [
    ("messenger", b"{not json"), ("messenger", b'{"object": "instagram", "entry": []}'),
    ("whatsapp", b'{"object": "whatsapp_business_account"}'), ("line", b'{"destination": "Uother", "events": []}'),
    ("x", b'{"direct_message_events": []}'), ("open", b'{"type": "Text", "channel": {"platform": "Open"}}'),
    ("open", b'[{"type": "Text"}]'), ("line", "\u00ff".encode("latin-1")),
])
def test_malformed_bodies_raise_parse_error(accounts, channel, body):
    with pytest.raises(ParseError):
        CONNECTORS[channel].parse(account(accounts, channel), body, 0)


def test_an_entry_for_another_page_is_not_attributed_to_this_account(accounts):
    body = webhook("messenger", "text").replace(b'"id": "104729385610293"', b'"id": "999"')
    with pytest.raises(ParseError, match="page 999"):
        CONNECTORS["messenger"].parse(account(accounts, "messenger"), body, 0)
