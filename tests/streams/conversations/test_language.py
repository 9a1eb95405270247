"""Offline language detection: restricted to the tenant's languages, a confidence threshold, the labelled
fixture's accuracy, and the conversation processor's step (first texts until confident or answered, and
`message_added` to routing while the customer waits)."""
import json
from pathlib import Path

import pytest

from streams.conversations import language
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.language import Detection, classify, confident, detect
from streams.conversations.samples import on_thread
from streams.conversations.threading import on_inbound
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound, outputs_of, settled

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "language" / "messages.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
LANGUAGES = frozenset(r["language"] for r in ROWS)   # en es pt fr de nl it ja zh
SPANISH = "hola, me robaron la tarjeta ayer en el metro"
THREAD = "acme:whatsapp:109876543210987:14155550123"
TTL = 192 * HOUR


def test_the_fixture_is_short_realistic_and_covers_the_confusable_pairs():
    assert len(ROWS) >= 300 and len(LANGUAGES) >= 8 and {"es", "pt", "de", "nl", "ja", "zh"} <= LANGUAGES
    assert sum(len(r["text"]) < 30 for r in ROWS) / len(ROWS) >= 0.4


def test_at_least_90_percent_right_on_messages_of_20_characters_or_more():
    longer = [r for r in ROWS if len(r["text"]) >= 20]
    right = [(found := detect(r["text"], LANGUAGES)) is not None and found.language == r["language"] for r in longer]
    assert sum(right) / len(longer) >= 0.9


@pytest.mark.parametrize("text, languages, expected", [
    ("olá, meu cartão foi bloqueado", {"es", "pt"}, "pt"),
    ("hallo, mijn pakket is niet aangekomen", {"de", "nl"}, "nl"),
    ("hallo, mein paket ist nicht angekommen", {"de", "nl"}, "de"),
    ("注文した商品がまだ届きません", {"ja", "zh"}, "ja"),
    ("我的订单还没有到", {"ja", "zh"}, "zh"),
])
def test_detection_separates_the_confusable_pairs(text, languages, expected):
    assert detect(text, languages).language == expected


def test_detection_only_ever_chooses_among_the_tenants_languages():
    found = detect("olá, meu cartão foi bloqueado", {"en", "es"})   # Portuguese is not one of them
    assert found.language in {"en", "es"}


def test_fewer_than_two_languages_it_knows_means_no_detection():
    assert detect(SPANISH, {"es"}) is None and detect(SPANISH, set()) is None
    assert detect(SPANISH, {"es", "xx"}) is None                      # xx: no ISO 639-1 code lingua knows
    assert confident({"es"}, 0.5) is language.none
    assert detect("👍 12345", LANGUAGES) is None                      # no letters


def test_below_the_threshold_no_language_is_given():
    assert 0 < detect("hola", LANGUAGES).confidence < 0.5             # a greeting: es/pt/it all possible
    assert confident(LANGUAGES, 0.5)("hola") is None
    assert confident(LANGUAGES, 0.0)("hola").language == "es"
    found = confident(LANGUAGES, 0.5)(SPANISH)
    assert found.language == "es" and found.confidence >= 0.5


def conv(**fields) -> dict:
    return {"language": None, "language_confidence": None, "language_settled": False, "answered": False} | fields


@pytest.mark.parametrize("state, msg", [
    (conv(language_settled=True, language="en", language_confidence=0.9), {"kind": "message", "text": SPANISH}),
    (conv(answered=True), {"kind": "message", "text": SPANISH}),                 # an agent answered: no more
    (conv(language="ja", language_settled=True), {"kind": "message", "text": SPANISH}),   # the platform's
    (conv(), {"kind": "message", "text": SPANISH, "language": "ja"}),
    (conv(), {"kind": "postback", "text": "Block my card"}),
])
def test_a_settled_answered_or_given_language_is_never_detected_again(state, msg):
    before = dict(state)
    assert classify(state, msg, lambda text: Detection("es", 0.99)) == {} and state == before


def test_a_confident_detection_settles_the_conversation_and_names_the_fields_of_its_event():
    state = conv()
    assert classify(state, {"kind": "message", "text": "hola"}, lambda text: None) == {}
    assert not state["language_settled"]
    fields = classify(state, {"kind": "message", "text": SPANISH}, lambda text: Detection("es", 0.97312))
    assert fields == {"language": "es", "language_confidence": 0.9731}
    assert state == conv(language="es", language_confidence=0.9731, language_settled=True)


DETECT = confident(LANGUAGES, 0.5)


def wrote(state, n: int, at: int, text: str):
    msg = inbound(n, at, text=text, content=[{"type": "text", "text": text}])
    return settled(on_inbound(state, msg, partition=3, window_ms=72 * HOUR, ttl_ms=TTL, detect=DETECT))


def test_a_confident_first_message_puts_the_language_on_the_first_request_and_the_fact():
    step = wrote(None, 1, T0, SPANISH)
    [request] = outputs_of([step], "routing-requests")
    assert request["reason"] == "new_conversation" and request["language"] == "es"
    assert request["language_confidence"] >= 0.5
    [added] = [e for e in outputs_of([step], "conversation-events") if e["type"] == "message_added"]
    assert (added["language"], added["language_confidence"]) == ("es", request["language_confidence"])


def test_later_messages_while_waiting_go_to_routing_and_the_one_that_is_confident_settles_it():
    first = wrote(None, 1, T0, "hola")
    [request] = outputs_of([first], "routing-requests")
    assert request["language"] is None and request["language_confidence"] is None   # no requirement imposed
    second = wrote(first.state, 2, T0 + MINUTE, SPANISH)
    [added] = outputs_of([second], "routing-requests")
    assert (added["reason"], added["message_text"], added["language"]) == ("message_added", SPANISH, "es")
    assert second.state["conversation"]["language_settled"]
    third = wrote(second.state, 3, T0 + 2 * MINUTE, "my card was stolen, please block it")
    [again] = outputs_of([third], "routing-requests")
    assert again["reason"] == "message_added" and again["language"] == "es"        # settled: kept
    assert [e.get("language") for e in outputs_of([third], "conversation-events")] == [None]


def test_once_the_connected_agent_answered_the_customer_writing_again_is_no_message_added():
    config = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, TTL, detect_language=lambda tenant: DETECT)

    def step(source, state, value, at):
        return apply(source, state, value, partition=0, record_ms=at, config=config)
    msg = on_thread(inbound(1, T0, text="hola", content=[{"type": "text", "text": "hola"}]), THREAD)
    state = settled(step("inbound-messages", None, msg, T0)).state
    connected = event("assignment_connected", assignment_id="as-1", occurred_at=T0 + 1, thread_key=THREAD,
                      conversation_id=state["conversation"]["conversation_id"])
    state = step("assignments", state, connected, T0 + 1).state
    reply = on_thread(event("outbound_reply", outbound_id="out-1"), THREAD) | {"recipient_id": "14155550123"}
    state = step("outbound-messages", state, reply, T0 + MINUTE).state
    assert state["conversation"]["answered"]
    moved = event("assignment_connected", assignment_id="as-2", occurred_at=T0 + 2 * MINUTE, thread_key=THREAD,
                  conversation_id=state["conversation"]["conversation_id"], type="transferred",
                  transfer_target="queue:loans")
    state = step("assignments", state, moved, T0 + 2 * MINUTE).state      # waiting again, after an answer
    assert state["conversation"]["awaiting_agent"] and not state["conversation"]["connected_agent_id"]
    later = on_thread(inbound(2, T0 + 3 * MINUTE, text=SPANISH, content=[{"type": "text", "text": SPANISH}]), THREAD)
    result = step("inbound-messages", state, later, T0 + 3 * MINUTE)
    assert [r["reason"] for r in outputs_of([result], "routing-requests")] == ["no_agent"]   # the moved deadline only
    assert result.state["conversation"]["language"] is None               # answered: not detected any more


def test_every_tenants_detector_is_built_in_the_background_once_the_directory_is_read():
    from streams.conversations import language as lang

    class Directory:
        def wait_ready(self, timeout):
            return None

        def tenants(self):
            return ["acme", "solo"]

        def tenant(self, tenant):
            return {"acme": {"languages": ["en", "es"]}, "solo": {"languages": ["en"]}}[tenant]

    lang.build.cache_clear()
    lang.warm(Directory()).join(30)
    assert lang.build.cache_info().currsize == 1   # acme's; one language needs no detector
