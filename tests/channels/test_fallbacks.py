"""Declared content fallbacks: what replaces an element a channel lacks, applied once by the policy."""
import json

import pytest

from channels.fallbacks import FALLBACKS, Replaced, substitute
from channels.registry import CHANNELS, rules
from channels.verdicts import Rejected
from connectors.registry import CONNECTORS
from schemas import Codec
from streams.conversations.outbound import on_outbound
from streams.conversations.state import new_conversation, new_thread
from streams.policy.decide import decide
from tests.connectors.helpers import FIXTURES, load_test_accounts
from tests.connectors.simulators.helpers import MARIA, auth, customer_writes

OUT = FIXTURES / "outbound" / "x"
ASK = {"type": "text", "text": "Was this helpful?"}
YES, NO = {"type": "quick_reply", "text": "Yes", "payload": "Y"}, {"type": "quick_reply", "text": "No", "payload": "N"}
PLACE = {"type": "location", "latitude": 52.37, "longitude": 4.89, "title": "Acme Store", "address": "Dam 1",
         "url": "https://www.openstreetmap.org/?mlat=52.37&mlon=4.89"}


@pytest.mark.parametrize("channel,content,expected,applied", [
    ("x", [{"type": "sticker", "sticker_id": "wave"}], [{"type": "text", "text": "👋"}], ["sticker:emoji"]),
    ("x", [{"type": "sticker", "sticker_id": "1988", "text": "🙂"}], [{"type": "text", "text": "🙂"}], ["sticker:emoji"]),
    ("x", [ASK, YES, NO], [{"type": "text", "text": "Was this helpful?\n1. Yes\n2. No"}], ["quick_reply:numbered_text"]),
    ("whatsapp", [YES, NO], [{"type": "text", "text": "1. Yes\n2. No"}], ["quick_reply:numbered_text"]),
    ("line", [PLACE], [{"type": "url", "url": PLACE["url"], "text": "Acme Store, Dam 1"}], ["location:map_link"]),
    ("messenger", [ASK, YES], [ASK, YES], []),                  # Messenger carries quick replies itself
    ("line", [{"type": "sticker", "sticker_id": "1988", "sticker_package_id": "446"}],
     [{"type": "sticker", "sticker_id": "1988", "sticker_package_id": "446"}], []),
])
def test_an_element_the_channel_lacks_is_replaced_by_its_declared_fallback(channel, content, expected, applied):
    assert substitute(rules(channel), content) == Replaced(expected, applied)


def test_a_sticker_without_an_emoji_is_refused_with_the_reason_not_dropped():
    rule, reason = substitute(rules("x"), [{"type": "sticker", "sticker_id": "1988", "sticker_package_id": "446"}])
    assert rule == "capability.sticker" and "no emoji" in reason


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_declared_fallback_exists_and_replaces_only_what_the_channel_lacks(channel):
    for kind, name in rules(channel).fallbacks.items():
        assert name in FALLBACKS and rules(channel).content.get(kind, False) is False, (kind, name)


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return {a.channel: a for a in load_test_accounts(tmp_path_factory.mktemp("a"), "acme", "http://platform.test")}


def approved_sticker(accounts) -> dict:
    """The agent's sticker to X through the policy: the approved outbound as delivery decodes it."""
    composed = json.loads((OUT / "sticker_fallback.composed.json").read_text())
    thread = new_thread(composed["thread_key"], 0, 0) | {"last_inbound_at": 0}
    thread["conversation"] = new_conversation(composed["thread_key"], "m:1", 0) | {"connected_agent_id": "agent-ana"}
    composed["conversation_id"] = thread["conversation"]["conversation_id"]
    verdict = decide(composed, thread, accounts["x"], rules("x"), 60_000)
    assert verdict.fallbacks == ("sticker:emoji",)
    step = on_outbound(thread, composed, account=accounts["x"], rules=rules("x"), now=60_000, partition=0,
                       window_ms=10**9, ttl_ms=10**9)
    [approved] = [o.value for o in step.outputs if o.topic == "outbound-checks"]   # X: the account stage next (daily cap)
    return Codec().decode(Codec().encode("outbound-message", approved), "outbound-message")


def test_a_sticker_to_x_is_approved_as_its_emoji_and_sent_in_xs_exact_format(accounts):
    approved = approved_sticker(accounts)
    assert approved["attributes"]["fallbacks"] == "sticker:emoji"
    [request] = CONNECTORS["x"].requests_for(accounts["x"], approved)   # delivery's check accepts it
    assert request.json == json.loads((OUT / "sticker_fallback.request.json").read_text())
    assert request.url == "http://platform.test/x/2/dm_conversations/with/987654321012345678/messages"


@pytest.mark.asyncio(loop_scope="session")
async def test_the_x_simulator_accepts_the_fallbacks_request(simulator):
    _, client = simulator
    await customer_writes(client, "x", MARIA["x"])
    body = json.loads((OUT / "sticker_fallback.request.json").read_text())
    answer = await client.post(f"/x/2/dm_conversations/with/{MARIA['x']}/messages", json=body, headers=auth("x"))
    assert answer.status == 201 and "dm_event_id" in (await answer.json())["data"]


def test_the_policy_refuses_what_has_no_fallback_under_the_capability_rule(accounts):
    composed = json.loads((OUT / "sticker_fallback.composed.json").read_text())
    video = {**composed, "content": [{"type": "video", "url": "https://cdn.example/v.mp4"}]}
    thread = {"last_inbound_at": 0, "outbound_since_inbound": 0,
              "conversation": {"conversation_id": composed["conversation_id"], "connected_agent_id": "agent-ana"}}
    assert decide(video, thread, accounts["x"], rules("x"), 1).rule == "capability.video"
    assert isinstance(decide(video, thread, accounts["x"], rules("x"), 1), Rejected)
