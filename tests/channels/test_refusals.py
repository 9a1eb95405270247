"""One refusal check and one rejection record for both sides: the policy and delivery agree."""
import json

import pytest

from channels.refusals import refusal, rejection
from channels.registry import CHANNELS, rules
from connectors.base import Refused
from connectors.registry import CONNECTORS
from schemas import Codec
from streams.policy.decide import Rejected, decide
from tests.connectors.helpers import FIXTURES, load_test_accounts

STICKER = {"type": "sticker", "sticker_id": "1988", "sticker_package_id": "446", "media_id": "m1"}
TEMPLATE = {"name": "card_blocked", "language": "en_US", "parameters": ["4821"]}


def message(channel: str, **changes) -> dict:
    """The channel's text reply fixture (tests/fixtures/outbound/<channel>/) with `changes`."""
    name = "push_text" if channel == "line" else "text"
    return {**json.loads((FIXTURES / "outbound" / channel / f"{name}.message.json").read_text()), **changes}


def too_long(channel: str) -> list[dict]:
    return [{"type": "text", "text": "a" * (rules(channel).content["text"] + 1)}]


def problems(channel: str):
    """(case, changes, expected rule) for what `channel` cannot carry."""
    yield "text too long", {"content": too_long(channel)}, "limit.text_length"
    yield "template without its body", {"kind": "template", "template": None}, "capability.template"
    if not rules(channel).content.get("template"):
        yield "template", {"kind": "template", "template": TEMPLATE}, "capability.template"
    if not rules(channel).content.get("sticker") and "sticker" not in rules(channel).fallbacks:
        yield "sticker", {"content": [STICKER]}, "capability.sticker"   # else replaced: tests/channels/test_fallbacks.py


CASES = [(c, case, changes, rule) for c in CONNECTORS for case, changes, rule in problems(c)]


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return {a.channel: a for a in load_test_accounts(tmp_path_factory.mktemp("a"), "acme")}


@pytest.mark.parametrize("channel,case,changes,rule", CASES, ids=[f"{c}-{case}".replace(" ", "_") for c, case, _, _ in CASES])
def test_the_policy_and_delivery_refuse_under_the_same_rule_and_reason(accounts, channel, case, changes, rule):
    outbound = message(channel, **changes)
    # A sender the policy lets speak (a tenant's system sender) on no named conversation, so what
    # refuses is the content; delivery never sees who spoke.
    outbound_alone = {**outbound, "conversation_id": None}
    verdict = decide(outbound_alone, None, accounts[channel], rules(channel), 0, frozenset({outbound["agent_id"]}))
    with pytest.raises(Refused) as refused:
        CONNECTORS[channel].requests_for(accounts[channel], outbound)
    assert verdict == Rejected(rule, refused.value.reason) and refused.value.rule == rule


@pytest.mark.parametrize("channel", CHANNELS)
def test_what_a_channel_declares_it_carries_is_not_refused(channel):
    limit = rules(channel).content["text"]
    text = [{"type": "text", "text": "a" * (20 if limit is True else limit)}]
    carried = [{"type": kind} for kind, allowed in rules(channel).content.items()
               if allowed is True and kind not in ("text", "template")]
    assert refusal(rules(channel), {"kind": "reply", "content": text + carried}) is None


def test_the_text_limit_reason_names_the_limit_and_the_length():
    rule, reason = refusal(rules("messenger"), {"kind": "reply", "content": too_long("messenger")})
    assert (rule, reason) == ("limit.text_length", "messenger text is limited to 2000 characters (this one has 2001)")


def test_a_rejection_is_an_outbound_rejection_record_naming_the_thread_conversation_when_the_message_does_not():
    outbound = message("x", conversation_id=None)
    record = rejection(outbound, "capability.sticker", "x cannot carry sticker content", 1741944786000, "conv-1")
    decoded = Codec().decode(Codec().encode("outbound-rejection", record), "outbound-rejection")
    assert (decoded["conversation_id"], decoded["rule"]) == ("conv-1", "capability.sticker")
    assert [c["text"] for c in decoded["content"]] == [c["text"] for c in outbound["content"]]
    assert rejection(message("x"), "r", "why", 0, "conv-1")["conversation_id"] == "conv-3b1f0c8e"
