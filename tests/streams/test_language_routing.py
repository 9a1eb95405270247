"""Language detection reaches routing, through the real broker and a whole worker (issue 14, "Done when"):
a Spanish first message of a tenant whose customers write en/es/pt is offered only to a Spanish speaker,
although the English-only agent has waited longer; the detected language is on the conversation's event."""
from __future__ import annotations

import time
import uuid

import pytest

from schemas import topic
from streams.conversations.samples import load, numbered, on_thread

from tests.streams.conversations.factory import FIXTURES
from tests.streams.tenant_system import act, of, on_queue, tenant_system

pytestmark = pytest.mark.kafka
RUN = uuid.uuid4().hex[:8]
TENANT = f"lang{RUN}"
NUMBER = "109876543210987"
READ = {topic("agent-notifications").name: "agent-event", topic("routing-requests").name: "routing-request",
        topic("routing-decisions").name: "routing-decision", topic("conversation-events").name: "conversation-event"}


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    """A tenant of its own (languages en, es, pt; bob speaks English, ana Spanish) and a worker for it."""
    people = {person: {"name": person.title(), "queues": ["general"], "languages": languages,
                       "capacity": {"messaging": 2}} for person, languages in (("bob", ["en"]), ("ana", ["es", "en"]))}
    yield from tenant_system(kafka_bootstrap, tmp_path_factory.mktemp("language-routing"), TENANT,
                             {"whatsapp": NUMBER}, {"name": "Language test", "languages": ["en", "es", "pt"]},
                             people, READ)


def test_a_spanish_first_message_is_offered_only_to_a_spanish_speaker(system):
    topics, kafka, reader = system
    now = int(time.time() * 1000)
    on_queue(kafka, reader, TENANT, ["bob", "ana"], now)   # bob idle longest: he would win a tie
    text = "hola, me robaron la tarjeta ayer y necesito bloquearla"
    record = on_thread(load(FIXTURES / "inbound_whatsapp.json"), f"{TENANT}:whatsapp:{NUMBER}:3461{RUN[:6]}")
    topics.produce("inbound-messages", [numbered(record, 1, now, text=text, content=[{"type": "text", "text": text}])])

    # generous: a new worker group recovers the shared changelogs, which earlier tests filled, and may
    # rebalance once more after its first ready line
    reader.wait_for(lambda r: of(r, "routing-decisions", "offered") and of(r, "agent-notifications", "offered"), 180)
    [offer] = of(reader.records, "agent-notifications", "offered")
    assert offer["agent_id"] == "ana"
    [request] = of(reader.records, "routing-requests", reason="new_conversation")
    assert request["language"] == "es" and request["language_confidence"] >= 0.5
    [audit] = of(reader.records, "routing-decisions", "offered")
    assert audit["language"] == "es"
    assert {"agent_id": "bob", "excluded": "does not speak es"}.items() <= \
        next(c for c in audit["candidates"] if c["agent_id"] == "bob").items()
    [added] = of(reader.records, "conversation-events", "message_added")
    assert added["language"] == "es" and added["language_confidence"] == request["language_confidence"]
