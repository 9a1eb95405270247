"""Outbound without I/O: each normalized message maps to the platform's exact request; answers classified."""
import json
import uuid

import pytest

from connectors.base import PlatformRequest, Refused
from connectors.registry import CONNECTORS
from connectors.sending import RetryPolicy, backoff
from connectors.signatures import b64_sha256
from connectors.web import DELIVERIES_PATH, WebConnector, delivery_signature
from schemas import Codec
from tests.connectors.helpers import FIXTURES, load_test_accounts

OUT = FIXTURES / "outbound"
CASES = sorted((p.parent.name, p.name.removesuffix(".message.json")) for p in OUT.glob("*/*.message.json"))
API = "http://platform.test"
PATHS = {"messenger": "/messenger/v21.0/me/messages", "whatsapp": "/whatsapp/v21.0/109876543210987/messages",
         "x": "/x/2/dm_conversations/with/987654321012345678/messages",
         "open": "/open/acme-sms-gateway/messages", "web": DELIVERIES_PATH}
WEB_KEY = b"test-web-delivery-key-0123456789abcdef"
# The registry's web connector has no edge to deliver to; `switchboard deliver` builds it like this.
SENDERS = {**CONNECTORS, "web": WebConnector(API + DELIVERIES_PATH, WEB_KEY)}


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return {a.channel: a for a in load_test_accounts(tmp_path_factory.mktemp("a"), "acme", API)}


def outbound(channel: str, name: str, **changes) -> dict:
    """A message fixture as delivery sees it: through the Avro codec (all fields, datetimes)."""
    message = {**json.loads((OUT / channel / f"{name}.message.json").read_text()), **changes}
    return Codec().decode(Codec().encode("outbound-message", message), "outbound-message")


def response(channel: str, name: str) -> bytes:
    return (OUT / channel / f"{name}.response.json").read_bytes()


@pytest.mark.parametrize("channel,name", CASES)
def test_each_message_maps_to_the_platforms_exact_request(accounts, channel, name):
    [request] = SENDERS[channel].requests_for(accounts[channel], outbound(channel, name))
    expected = json.loads((OUT / channel / f"{name}.request.json").read_text())
    assert request.method == "POST"
    if channel == "open":
        assert json.loads(request.body) == expected
        secret = b"test-open-outbound-secret"
        assert request.headers["X-Hub-Signature-256"] == b64_sha256(secret, request.body)
    elif channel == "web":
        assert json.loads(request.body) == expected and request.idempotent
        assert request.headers["X-Switchboard-Signature"] == delivery_signature(WEB_KEY, request.body)
    else:
        assert request.json == expected
    if channel == "line":
        endpoint = "reply" if name.startswith("reply") else "push"
        assert request.url == f"{API}/line/v2/bot/message/{endpoint}"
        assert request.headers["Authorization"] == "Bearer test-line-token"
        assert ("X-Line-Retry-Key" in request.headers) is (endpoint == "push")
    else:
        assert request.url == API + PATHS[channel]
    assert len(CASES) == 25


def test_line_retry_key_is_a_uuid_stable_per_outbound_message(accounts):
    first = CONNECTORS["line"].requests_for(accounts["line"], outbound("line", "push_text"))[0]
    again = CONNECTORS["line"].requests_for(accounts["line"], outbound("line", "push_text"))[0]
    other = CONNECTORS["line"].requests_for(accounts["line"], outbound("line", "push_text", outbound_id="x2"))[0]
    key = first.headers["X-Line-Retry-Key"]
    assert uuid.UUID(key) and key == again.headers["X-Line-Retry-Key"] != other.headers["X-Line-Retry-Key"]
    assert first.idempotent


def test_line_reply_falls_back_to_an_idempotent_push(accounts):
    [reply] = CONNECTORS["line"].requests_for(accounts["line"], outbound("line", "reply_text"))
    assert not reply.idempotent and reply.fallback.idempotent
    assert reply.fallback.json == {"to": "U8f7e6d5c4b3a29180716f5e4d3c2b1a0", "messages": reply.json["messages"]}


def test_more_than_five_line_messages_go_in_several_pushes(accounts):
    content = [{"type": "text", "text": "part"}, {"type": "sticker", "sticker_package_id": "446", "sticker_id": "1988"}]
    requests = CONNECTORS["line"].requests_for(accounts["line"], outbound("line", "push_text", content=content * 3))
    assert [len(r.json["messages"]) for r in requests] == [5, 1]
    assert len({r.headers["X-Line-Retry-Key"] for r in requests}) == 2


def test_several_parts_are_several_calls_in_order(accounts):
    content = [{"type": "text", "text": "Here it is"}, {"type": "image", "url": "https://cdn.example/a.png", "text": "caption"}]
    requests = CONNECTORS["messenger"].requests_for(accounts["messenger"], outbound("messenger", "text", content=content))
    assert [r.json["message"] for r in requests] == [
        {"text": "Here it is"},
        {"attachment": {"type": "image", "payload": {"url": "https://cdn.example/a.png", "is_reusable": True}}},
        {"text": "caption"}]  # Messenger images carry no caption


@pytest.mark.parametrize("channel,content,rule", [
    ("x", [{"type": "sticker", "sticker_package_id": "446", "sticker_id": "1988"}], "capability.sticker"),
    ("open", [{"type": "sticker", "sticker_id": "1"}], "capability.sticker"),
    ("x", [{"type": "image", "url": "https://cdn.example/a.png"}], "capability.image_url"),
    ("messenger", [{"type": "text", "text": "a" * 2001}], "limit.text_length"),
    ("whatsapp", [{"type": "location", "latitude": 1.0, "longitude": 2.0}], "capability.location"),
    ("line", [{"type": "sticker", "sticker_id": "1988"}], "capability.sticker"),
    ("whatsapp", [{"type": "quick_reply", "text": "Yes", "payload": "Y"}], "capability.quick_reply"),
    ("web", [{"type": "text", "text": "a" * 20001}], "limit.text_length"),
])
def test_what_a_channel_cannot_carry_is_refused_with_a_reason(accounts, channel, content, rule):
    name = {"line": "push_text"}.get(channel, "text")
    with pytest.raises(Refused) as refused:
        SENDERS[channel].requests_for(accounts[channel], outbound(channel, name, content=content))
    assert refused.value.rule == rule and len(refused.value.reason) > 20


REQUEST = PlatformRequest("POST", "http://platform.test", {})


@pytest.mark.parametrize("channel,status,fixture,headers,ok,retriable,code", [
    ("messenger", 200, "text", {}, True, False, None),
    ("messenger", 400, "error_outside_window", {}, False, False, "10/2018278"),
    ("messenger", 400, "error_rate_limit", {}, False, True, "613"),
    ("messenger", 401, "error_token", {}, False, False, "190/460"),
    ("messenger", 400, "error_user_unavailable", {}, False, False, "551/1545041"),
    ("whatsapp", 200, "text", {}, True, False, None),
    ("whatsapp", 400, "error_131047", {}, False, False, "131047"),
    ("whatsapp", 400, "error_130429", {}, False, True, "130429"),
    ("whatsapp", 400, "error_131051", {}, False, False, "131051"),
    ("line", 200, "push_text", {}, True, False, None),
    ("line", 409, "error_409", {}, True, False, None),
    ("line", 429, "error_429_rate_limit", {"Retry-After": "2"}, False, True, "429"),
    ("line", 429, "error_429_quota", {}, False, False, "429/quota"),
    ("line", 401, "error_401", {}, False, False, "401"),
    ("x", 201, "text", {}, True, False, None),
    ("x", 429, "error_429", {"x-rate-limit-reset": "9999999999"}, False, True, "429"),
    ("x", 403, "error_403", {}, False, False, "403"),
    ("x", 403, "error_403_v1", {}, False, False, "349"),
    ("web", 200, "text", {}, True, False, None),
    ("web", 404, "error_404", {}, False, False, "session_unknown"),
])
def test_platform_answers_are_classified(channel, status, fixture, headers, ok, retriable, code):
    result = CONNECTORS[channel].result_of(REQUEST, status, headers, response(channel, fixture))
    assert (result.ok, result.retriable, result.error_code) == (ok, retriable, code)
    if ok:
        assert result.platform_message_ids
    else:
        assert result.reason and not result.reason.startswith("(#")
    if headers.get("Retry-After"):
        assert result.retry_after == 2.0


def test_an_expired_line_reply_token_asks_for_the_push_fallback():
    result = CONNECTORS["line"].result_of(REQUEST, 400, {}, response("line", "error_400_invalid_reply_token"))
    assert result.use_fallback and not result.retriable


def test_backoff_is_exponential_jittered_capped_and_defers_to_the_platform():
    policy = RetryPolicy(base_s=1, cap_s=8)
    assert [backoff(policy, n, None, 1.0) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]
    assert backoff(policy, 3, None, 0.0) == 2.0  # half to full of the step
    assert backoff(policy, 1, 42.0, 0.5) == 42.0
