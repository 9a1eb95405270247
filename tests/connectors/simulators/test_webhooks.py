"""Webhooks the simulators generate: signed as each platform signs, shaped like the captured fixtures,
batched and redelivered as the seed decides."""
import base64
import hashlib
import hmac
import json
import random

import pytest

from connectors.simulators.customers import FIXTURE_PEOPLE, compose
from connectors.simulators.scenario import CustomerScenario
from connectors.simulators.signing import meta_json
from connectors.simulators.simulator import Simulator
from connectors.simulators.state import Clock
from switchboard.accounts import load_accounts
from tests.simulators_fixture import ACCOUNTS, FIXTURES

SECRETS = {"messenger": "demo-messenger-app-secret", "whatsapp": "demo-whatsapp-app-secret",
           "line": "demo-line-channel-secret", "x": "demo-x-consumer-secret", "open": "demo-open-inbound-secret"}


def _verify(channel: str, body: bytes, headers: dict) -> bool:
    """An independent verifier per channel (docs/channels/*.md, Security)."""
    mac = hmac.new(SECRETS[channel].encode(), body, hashlib.sha256).digest()
    expected = {"messenger": ("X-Hub-Signature-256", "sha256=" + mac.hex()),
                "whatsapp": ("X-Hub-Signature-256", "sha256=" + mac.hex()),
                "line": ("x-line-signature", base64.b64encode(mac).decode()),
                "x": ("x-twitter-webhooks-signature", "sha256=" + base64.b64encode(mac).decode()),
                "open": ("X-Hub-Signature-256", "sha256=" + base64.b64encode(mac).decode())}[channel]
    return hmac.compare_digest(headers.get(expected[0], ""), expected[1])


def _sim(seed=3) -> Simulator:
    return Simulator(load_accounts(ACCOUNTS), "http://127.0.0.1:9", seed=seed, clock=Clock(base=lambda: 1_760_000_000.0))


def _hooks(seed: int, n: int):
    scenario = CustomerScenario(_sim(seed), seed=seed, batch_probability=0.2, redelivery_probability=0.1)
    return [scenario.next_webhook() for _ in range(n)]


def test_every_channel_is_signed_like_the_platform():
    seen = set()
    for platform, hook, _ in _hooks(seed=5, n=120):
        assert _verify(hook.channel, hook.body, hook.headers), hook.channel
        assert json.loads(hook.body) == hook.payload
        seen.add(hook.channel)
    assert seen == set(SECRETS)


def test_meta_bodies_are_ascii_with_metas_escapes():
    for platform, hook, _ in _hooks(seed=6, n=150):
        if hook.channel in ("messenger", "whatsapp"):
            assert hook.body.isascii() and b"/" not in hook.body.replace(b"\\/", b"")
            assert b"@" not in hook.body and b"%" not in hook.body


def _compact(raw: str) -> bytes:
    out, in_string, escaped = [], False, False
    for ch in raw:
        if in_string:
            escaped, in_string = (not escaped and ch == "\\"), in_string and (escaped or ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in " \n\r\t":
            continue
        out.append(ch)
    return "".join(out).encode()


@pytest.mark.parametrize("path", sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / "webhooks").glob("*/*.json")
                                        if p.parent.name in ("messenger", "whatsapp")))
def test_meta_serialization_reproduces_the_captured_bytes(path):
    raw = (FIXTURES / path).read_text()
    assert meta_json(json.loads(raw)) == _compact(raw)


OPTIONAL = {"caption"}  # WhatsApp media captions are optional (channels.md)


def _shape(value):
    """Key structure of a JSON value; maps keyed by ids (X users/apps) collapse to their values' keys."""
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return ("<id>", frozenset(k for v in value.values() for k in v))
        return {k: _shape(v) for k, v in value.items() if k not in OPTIONAL}
    if isinstance(value, list):
        shapes = [_shape(v) for v in value]
        return shapes[0] if shapes else []
    return type(value).__name__ if not isinstance(value, (int, float)) or isinstance(value, bool) else "number"


# (channel, content kind) → the fixture with the same content type
SHAPES = [("messenger", "text", "text"), ("messenger", "image", "image"), ("messenger", "sticker", "sticker_transition"),
          ("messenger", "postback", "postback"), ("messenger", "quick_reply", "quick_reply"), ("messenger", "video", "video"),
          ("whatsapp", "text", "text"), ("whatsapp", "image", "image"), ("whatsapp", "sticker", "sticker"),
          ("whatsapp", "location", "location"), ("whatsapp", "postback", "postback"), ("whatsapp", "quick_reply", "quick_reply"),
          ("whatsapp", "audio", "audio"), ("whatsapp", "file", "file"),
          ("line", "text", "text"), ("line", "emoji", "text_emoji"), ("line", "sticker", "sticker"), ("line", "image", "image"),
          ("line", "location", "location"), ("line", "postback", "postback"), ("line", "video", "video"),
          ("line", "audio", "audio"), ("line", "file", "file"),
          ("x", "text", "text"), ("x", "url", "url"), ("x", "postback", "postback"),
          ("open", "text", "text"), ("open", "image", "image"), ("open", "url", "url")]


@pytest.mark.parametrize("channel,kind,fixture", SHAPES)
def test_payloads_have_the_fixtures_structure(channel, kind, fixture):
    sim = _sim()
    platform, account = sim.platforms[channel], sim.account(channel)
    customer = FIXTURE_PEOPLE[1]  # Kenji: a phone customer without a BSUID, like most fixtures
    event = platform.event(account, customer, compose(random.Random(1), customer, kind), 1_760_000_000_000)
    expected = json.loads((FIXTURES / "webhooks" / channel / f"{fixture}.json").read_bytes())
    assert _shape(platform.envelope(account, [event])) == _shape(expected)


def test_whatsapp_carries_a_bsuid_beside_the_phone_for_some_customers():
    sim = _sim()
    platform, account, amara = sim.platforms["whatsapp"], sim.account("whatsapp"), FIXTURE_PEOPLE[2]
    event = platform.event(account, amara, compose(random.Random(1), amara, "text"), 1_760_000_000_000)
    expected = json.loads((FIXTURES / "webhooks/whatsapp/contacts_user_id_and_phone.json").read_bytes())
    assert _shape(platform.envelope(account, [event])) == _shape(expected)


def test_the_seed_decides_everything():
    first, again, other = _hooks(seed=9, n=60), _hooks(seed=9, n=60), _hooks(seed=10, n=60)
    assert [h.body for _, h, _ in first] == [h.body for _, h, _ in again]
    assert [h.body for _, h, _ in first] != [h.body for _, h, _ in other]


def test_batches_and_redeliveries_happen():
    hooks = _hooks(seed=11, n=200)
    batches = [h for _, h, _ in hooks if _events(h.payload) > 1]
    assert len(batches) >= 15 and {h.channel for h in batches} >= {"messenger", "whatsapp", "line"}
    assert sum(again for *_, again in hooks) >= 8


def _events(payload) -> int:
    if isinstance(payload, list):
        return len(payload)
    if "entry" in payload:
        return sum(len(e.get("messaging", [])) or len(c["value"].get("messages", []))
                   for e in payload["entry"] for c in (e.get("changes") or [{}]))
    return len(payload.get("events") or payload.get("direct_message_events") or [1])


def test_redeliveries_look_like_each_platforms():
    sim, hooks = _sim(), {}
    scenario = CustomerScenario(sim, seed=2)
    while len(hooks) < 5:
        platform, hook, _ = scenario.next_webhook()
        hooks.setdefault(hook.channel, (platform, hook))
    for channel, (platform, hook) in hooks.items():
        again = platform.redelivered(hook)
        assert again.redelivery and _verify(channel, again.body, again.headers)
        if channel == "line":  # LINE: the same webhookEventId, flagged isRedelivery
            assert [e["webhookEventId"] for e in again.payload["events"]] == [e["webhookEventId"] for e in hook.payload["events"]]
            assert all(e["deliveryContext"]["isRedelivery"] for e in again.payload["events"])
        else:  # Meta, X and Open integrations: identical bytes
            assert again.body == hook.body


def test_customers_keep_their_ids_and_some_volunteer_an_email():
    sim = _sim()
    texts = [h.body.decode() for _, h, _ in _hooks(seed=4, n=300) if h.channel in ("line", "x")]
    emails = {c.email for c in sim.pool if c.email and "open" in c.channels}
    assert any(email in text for email in emails for text in texts)
    assert [c.psid for c in sim.pool] == [c.psid for c in _sim(seed=3).pool]
