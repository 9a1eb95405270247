"""Entry points on conversations: a referral's entry point and campaign on the started event, a bare
referral held for the next message, first referral kept (pure, through `dispatch.apply`)."""
from __future__ import annotations

import json

from schemas import Codec, topic
from streams.conversations import referrals
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.samples import on_thread
from streams.conversations.state import StateCodec
from switchboard.accounts import load_accounts
from tests.connectors.helpers import golden

from .factory import ACCOUNTS, FIXTURES, HOUR, MINUTE, inbound, outputs_of

SOURCE = topic("inbound-messages").name
ENTRY_POINTS = json.loads((FIXTURES / "entry_points.json").read_text())


class Directory:
    """The two look-ups the processor makes of the directory (switchboard.directory.DirectoryView)."""

    def entry_point(self, tenant, entry_id):
        return next((e for e in ENTRY_POINTS if e["id"] == entry_id), None) if tenant == "acme" else None

    def entry_point_of_ad(self, tenant, ad_id):
        return next((e for e in ENTRY_POINTS if ad_id in e["ad_ids"]), None) if tenant == "acme" else None


CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR, entry_point=referrals.lookup(Directory()))


def message(channel: str, name: str, **overrides) -> dict:
    """The connector's normalized event of a webhook fixture (tests/fixtures/normalized/)."""
    return golden(channel, name)["messages"][0] | overrides


def run(*messages, config=CONFIG, state=None):
    steps = []
    for msg in messages:
        steps.append(apply(SOURCE, state, msg, partition=0, record_ms=msg["occurred_at"], config=config))
        state = steps[-1].state
    return steps, state


def events(steps, kind=None) -> list[dict]:
    return [e for e in outputs_of(steps, "conversation-events") if kind is None or e["type"] == kind]


def referral_fields(event: dict) -> dict:
    return {name: event.get(name) for name in referrals.FIELDS}


def test_a_bare_messenger_referral_starts_nothing_and_the_next_message_carries_its_campaign():
    referral = message("messenger", "referral")
    text = message("messenger", "url", occurred_at=referral["occurred_at"] + MINUTE)   # Kenji writes after the link
    (held, written), state = run(referral, text)
    assert held.outputs == [] and held.state["conversation"] is None
    assert held.state["referral"]["entry_point_id"] == "spring-sale"
    [started] = events([written], "started")
    assert referral_fields(started) == {"entry_point_id": "spring-sale", "campaign_id": "spring-2026",
                                        "referral_source": "shortlink", "referral_source_id": None}
    assert [r["reason"] for r in outputs_of([written], "routing-requests")] == ["new_conversation"]
    assert state["referral"] is None and state["conversation"]["campaign_id"] == "spring-2026"


def test_a_redelivered_bare_referral_is_a_duplicate():
    referral = message("messenger", "referral")
    (_, again), _ = run(referral, referral)
    assert again.duplicate and again.outputs == []


def test_the_get_started_postback_of_an_m_me_link_starts_the_conversation_with_its_entry_point():
    [step], _ = run(message("messenger", "postback_referral"))
    [started] = events([step], "started")
    assert started["entry_point_id"] == "spring-sale" and started["campaign_id"] == "spring-2026"


def test_a_click_to_whatsapp_ad_resolves_by_its_ad_id():
    [step], state = run(message("whatsapp", "ad_referral"))
    [started] = events([step], "started")
    assert referral_fields(started) == {"entry_point_id": "travel-card-ad", "campaign_id": "travel-card-2026",
                                        "referral_source": "ad", "referral_source_id": "120210000000001"}
    [added] = events([step], "message_added")
    assert "campaign_id" not in added   # the started event says it once


def test_a_messenger_ad_resolves_by_ad_id_and_an_unknown_ref_keeps_only_its_source():
    [ad], _ = run(message("messenger", "ad_referral"))
    assert events([ad], "started")[0]["entry_point_id"] == "travel-card-messenger-ad"
    unknown = message("messenger", "postback_referral")
    unknown["attributes"] = {**unknown["attributes"], "referral_ref": "no-such-poster"}
    [step], _ = run(unknown)
    assert referral_fields(events([step], "started")[0]) == {
        "entry_point_id": None, "campaign_id": None, "referral_source": "shortlink", "referral_source_id": None}


def test_an_entry_point_of_another_channel_is_not_this_referrals():
    widget_ref = message("messenger", "postback_referral")
    widget_ref["attributes"] = {**widget_ref["attributes"], "referral_ref": "welcome"}
    [step], _ = run(widget_ref)
    assert events([step], "started")[0]["entry_point_id"] is None


def test_a_referral_older_than_the_window_is_not_the_next_conversations():
    referral = message("messenger", "referral")
    late = message("messenger", "url", occurred_at=referral["occurred_at"] + 73 * HOUR)
    (_, written), state = run(referral, late)
    assert referral_fields(events([written], "started")[0]) == dict.fromkeys(referrals.FIELDS)
    assert state["referral"] is None


def test_an_ongoing_conversation_takes_its_first_referral_later_and_keeps_it():
    first = message("whatsapp", "ad_referral")
    plain = {**first, "event_id": "in-plain", "platform_message_id": "wamid.plain", "attributes": {}}
    from_ad = {**first, "occurred_at": first["occurred_at"] + 10 * MINUTE}
    other_ad = {**first, "event_id": "in-other", "platform_message_id": "wamid.other",
                "occurred_at": first["occurred_at"] + 20 * MINUTE,
                "attributes": {**first["attributes"], "referral_source_id": "120219999999999"}}
    steps, state = run(plain, from_ad, other_ad)
    assert referral_fields(events(steps, "started")[0]) == dict.fromkeys(referrals.FIELDS)
    added = events(steps, "message_added")
    assert added[1]["entry_point_id"] == "travel-card-ad" and added[1]["campaign_id"] == "travel-card-2026"
    assert "entry_point_id" not in added[2] and state["conversation"]["referral_source_id"] == "120210000000001"


def test_without_a_directory_referrals_keep_their_source():
    bare = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
    [step], _ = run(message("whatsapp", "ad_referral"), config=bare)
    assert referral_fields(events([step], "started")[0]) == {
        "entry_point_id": None, "campaign_id": None, "referral_source": "ad", "referral_source_id": "120210000000001"}


def test_the_widgets_entry_point_starts_a_web_conversation_with_its_campaign():
    visit = on_thread(inbound(1), "acme:web:acme-website:sess-4f9c2a7e") | {
        "channel": "web", "attributes": {"session_id": "sess-4f9c2a7e", "referral_ref": "welcome", "referral_source": "widget"}}
    [step], _ = run(visit)
    assert referral_fields(events([step], "started")[0]) == {
        "entry_point_id": "welcome", "campaign_id": "site-welcome", "referral_source": "widget", "referral_source_id": None}


def test_a_held_referral_survives_the_state_table_encoding():
    [held], _ = run(message("messenger", "referral"))
    states = StateCodec(Codec())
    assert states.loads(states.dumps(held.state)) == held.state
