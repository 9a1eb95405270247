"""The guest API's pure parts: rate limits on a fake clock, the site's JWT, the envelope, widget content."""
from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.base import ParseError
from connectors.media.signing import Signer
from connectors.web import WebConnector
from connectors.webmessaging.content import WidgetContent
from connectors.webmessaging.guest_jwt import claims_of
from connectors.webmessaging.limits import RateLimit, Throttle
from connectors.webmessaging.protocol import GuestError
from connectors.workspace import PUBLIC
from connectors.workspace.records import guest_typing
from schemas import Codec
from switchboard.auth import Principal, _is_public
from tests.connectors.helpers import load_test_accounts

NOW = 1_764_633_600.0
HS = {"enabled": True, "algorithm": "HS256", "secret": "s" * 32, "issuer": "https://www.acme.example",
      "audience": "acme-website"}


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_two_messages_per_second_pass_and_the_third_waits_until_the_first_is_a_second_old():
    clock = FakeClock()
    limit = RateLimit(clock)
    limit.take()
    clock.now += 0.4
    limit.take()
    clock.now += 0.1
    with pytest.raises(GuestError) as refused:
        limit.take()
    assert refused.value.code == "rate_limited" and refused.value.retry_after == pytest.approx(0.5)
    clock.now += 0.5
    limit.take()   # the first is a second old now


def test_typing_passes_once_per_five_seconds():
    clock = FakeClock()
    throttle = Throttle(clock)
    assert [throttle.passes(), throttle.passes()] == [True, False]
    clock.now += 4.99
    assert not throttle.passes()
    clock.now += 0.01
    assert throttle.passes()


def token(key, algorithm="HS256", **claims) -> str:
    base = {"sub": "user-8812", "name": "Maria Lopez", "email": "maria@example.com", "iat": int(NOW),
            "exp": int(NOW) + 3600, "iss": HS["issuer"], "aud": HS["audience"]}
    return jwt.encode({**base, **claims}, key, algorithm=algorithm)


def test_an_hs256_jwt_of_the_site_gives_its_claims():
    assert claims_of(HS, token(HS["secret"]), NOW)["sub"] == "user-8812"


@pytest.mark.parametrize("claims,why", [
    ({"exp": int(NOW) - 60}, "expired"),
    ({"exp": int(NOW) + 25 * 3600}, "longer than 24 h"),
    ({"iss": "https://evil.example"}, "issuer"),
    ({"aud": "other"}, "audience"),
    ({"sub": ""}, "sub"),
])
def test_a_jwt_that_does_not_hold_is_invalid(claims, why):
    with pytest.raises(GuestError) as refused:
        claims_of(HS, token(HS["secret"], **claims), NOW)
    assert refused.value.code == "invalid_jwt" and why in refused.value.message.lower()


def test_the_algorithm_is_the_deployments_not_the_tokens():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    rs = HS | {"algorithm": "RS256", "secret": None, "public_key": public}
    assert claims_of(rs, token(private, "RS256"), NOW)["email"] == "maria@example.com"
    with pytest.raises(GuestError):   # HS256 "signed" with the public key: the classic confusion attack
        claims_of(rs, jwt.encode({"sub": "x", "iat": int(NOW), "exp": int(NOW) + 60}, "p" * 32, algorithm="HS256"), NOW)
    with pytest.raises(GuestError):
        claims_of(HS | {"enabled": False}, token(HS["secret"]), NOW)


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    return next(a for a in load_test_accounts(tmp_path_factory.mktemp("a"), "acme") if a.channel == "web")


@pytest.mark.parametrize("body,why", [
    (b'[1]', "JSON object"),
    (b'{"message": {"id": "wm-1", "sentAt": 1, "text": "x"}}', "session"),
    (b'{"session": {"id": "ws-1"}, "message": {"id": "wm-1", "sentAt": 1}}', "text or attachments"),
    (b'{"session": {"id": "ws-1"}, "message": {"id": "wm-1", "sentAt": 1, "attachments": [{"type": "image/png"}]}}',
     "mediaKey"),
])
def test_an_envelope_the_connector_cannot_read_is_a_parse_error(account, body, why):
    with pytest.raises(ParseError, match=why):
        WebConnector().parse(account, body, 0)


def test_widget_content_signs_stored_media_absolutely_and_keeps_links_and_stickers():
    class Media:
        signer = Signer(b"k" * 32, clock=lambda: NOW)
    shown = WidgetContent(Media(), "https://chat.acme.example/", 3600)
    items = [{"type": "text", "text": "See"}, {"type": "image", "media_key": "a" * 64, "mime_type": "image/png"},
             {"type": "url", "url": "https://www.acme.example/help", "title": "Help"},
             {"type": "sticker", "sticker_package_id": "switchboard", "sticker_id": "thanks"},
             {"type": "quick_reply", "text": "Yes"}]
    body = shown.message(message_id="m1", direction="outbound", items=items, text=None, sent_at=1, sender_name="Ana",
                         conversation_id="c1")
    assert body["text"] == "See" and [i["type"] for i in body["content"]] == ["image", "url", "sticker"]
    image, link, sticker = body["content"]
    assert image["url"].startswith(f"https://chat.acme.example/media/{'a' * 64}?exp={int(NOW) + 3600}&sig=")
    assert link == {"type": "url", "url": "https://www.acme.example/help", "title": "Help"}
    assert sticker["url"] == "https://chat.acme.example/webmessaging/static/stickers/thanks.svg"



def test_agent_typing_on_a_web_conversation_is_a_guest_event_for_its_session():
    entry = {"thread_key": "acme:web:acme-website:ws-3f9c2a7e", "channel_account_id": "acme-website",
             "conversation_id": "conv-1"}
    record = guest_typing(Codec(), Principal("ana", "acme", "agent", "s1", "Ana"), entry, 1_764_633_600_000)
    event = Codec().decode(record.value, "web-guest-event")
    assert record.topic == "webmessaging-events" and record.key == entry["thread_key"]
    assert (event["type"], event["deployment_id"], event["session_id"], event["sender_name"]) == (
        "typing", "acme-website", "ws-3f9c2a7e", "Ana")


@pytest.mark.parametrize("path", ["/webmessaging/v1", "/webmessaging/widget.js", "/webmessaging/v1/history",
                                  "/webmessaging/v1/uploads/att-1", "/webmessaging/v1/deliveries", "/demo/", "/demo"])
def test_the_guest_api_passes_the_agents_auth_middleware_it_checks_its_own(path):
    assert _is_public(path, PUBLIC)
    assert not _is_public("/api/v1/conversations", PUBLIC)
