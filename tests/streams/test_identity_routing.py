"""One customer across channels, through the real broker and a whole worker (issue 14, "Done when"):
an email typed on Messenger and again on WhatsApp makes one customer (the tenant merges typed details),
the WhatsApp conversation is offered first to the agent of the Messenger one, and a split separates
them again for new events — every step audited (identity-events, routing-decisions)."""
from __future__ import annotations

import time
import uuid

import pytest

from schemas import topic
from streams.conversations.samples import load, numbered, on_thread
from switchboard.ids import customer_id

from tests.streams.conversations.factory import FIXTURES
from tests.streams.tenant_system import CODEC, act, of, on_queue, tenant_system

pytestmark = pytest.mark.kafka
RUN = uuid.uuid4().hex[:8]
TENANT = f"idt{RUN}"
PAGE, NUMBER = "104729385610293", "109876543210987"
READ = {topic("agent-notifications").name: "agent-event", topic("identity-events").name: "identity-event",
        topic("routing-requests").name: "routing-request", topic("routing-decisions").name: "routing-decision",
        topic("conversation-events").name: "conversation-event"}


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    """A tenant of its own (merging typed details, agents ana and bob on `general`) and a worker for it."""
    people = {person: {"name": person.title(), "queues": ["general"], "capacity": {"messaging": 2}}
              for person in ("ana", "bob")}
    yield from tenant_system(kafka_bootstrap, tmp_path_factory.mktemp("identity-routing"), TENANT,
                             {"messenger": PAGE, "whatsapp": NUMBER},
                             {"name": "Identity test", "merge_typed_details": True}, people, READ)


def message(channel: str, user: str, text: str, n: int) -> dict:
    name = "inbound_messenger_details" if channel == "messenger" else "inbound_whatsapp"
    account = PAGE if channel == "messenger" else NUMBER
    record = on_thread(load(FIXTURES / f"{name}.json"), f"{TENANT}:{channel}:{account}:{user}")
    now = int(time.time() * 1000)
    record = numbered(record, n, now, text=text, content=[{"type": "text", "text": text}])
    record["sender"] |= {"display_name": "Ana Ruiz"}   # the same person's name on both (else: a flag, no merge)
    if channel == "whatsapp":
        record["sender"] |= {"phone": user, "id_type": "phone"}
    return record


def test_a_typed_email_on_two_channels_is_one_customer_offered_to_its_agent_and_a_split_separates_them(system):
    topics, kafka, reader = system
    email, psid, wa_id = f"ana.{RUN}@example.com", f"77{RUN[:6]}1", f"3461{int(RUN[:6], 16) % 10**6:06d}"
    now = int(time.time() * 1000)
    on_queue(kafka, reader, TENANT, ["ana", "bob"], now)   # ana idle longest: the first offer's

    topics.produce("inbound-messages", [message("messenger", psid, f"hi, my email is {email}", 1)])
    # generous: a new worker group recovers the shared changelogs, which earlier tests filled, and may
    # rebalance once more after its first ready line
    reader.wait_for(lambda r: of(r, "agent-notifications", "offered"), 180)
    offer = of(reader.records, "agent-notifications", "offered")[0]
    first_agent = offer["agent_id"]
    act(kafka, TENANT, first_agent, "accept", int(time.time() * 1000), conversation_id=offer["conversation_id"],
        offer_id=offer["offer_id"])
    reader.wait_for(lambda r: of(r, "conversation-events", "agent_assigned"), 30)
    act(kafka, TENANT, first_agent, "end", int(time.time() * 1000), conversation_id=offer["conversation_id"])
    reader.wait_for(lambda r: of(r, "conversation-events", "agent_ended"), 30)   # the other agent is idle longer now

    topics.produce("inbound-messages", [message("whatsapp", wa_id, f"hola, soy {email}", 1)])
    reader.wait_for(lambda r: len(of(r, "agent-notifications", "offered")) == 2, 60)
    second = of(reader.records, "agent-notifications", "offered")[1]
    messenger, whatsapp = customer_id(TENANT, "messenger", psid), customer_id(TENANT, "whatsapp", wa_id)
    [merged] = of(reader.records, "identity-events", "merged")
    assert {merged["customer_id"], merged["merged_customer_id"]} == {messenger, whatsapp}
    assert merged["origin"] == "text" and merged["detail_value"] == email
    [request] = of(reader.records, "routing-requests", reason="new_conversation",
                   conversation_id=second["conversation_id"])
    assert set(request["related_customer_ids"]) == {messenger, whatsapp}
    assert second["agent_id"] == first_agent and second["reason"].startswith("last agent")
    reader.wait_for(lambda r: of(r, "routing-decisions", "offered", offer_id=second["offer_id"]), 30)
    [audit] = of(reader.records, "routing-decisions", "offered", offer_id=second["offer_id"])
    assert "last agent" in audit["reason"]

    survivor, absorbed = merged["customer_id"], merged["merged_customer_id"]
    thread = f"{TENANT}:{'messenger' if absorbed == messenger else 'whatsapp'}:" \
             f"{PAGE if absorbed == messenger else NUMBER}:{psid if absorbed == messenger else wa_id}"
    split = {"claim_id": f"split-{RUN}", "tenant_id": TENANT, "detail_type": "email", "detail_value": email,
             "source": "agent_entered", "thread_key": thread, "channel": thread.split(":")[1],
             "channel_account_id": thread.split(":")[2], "external_id": thread.split(":", 3)[3],
             "customer_id": absorbed, "display_name": None, "occurred_at": int(time.time() * 1000),
             "action": "split", "origin": "agent", "message_id": None, "auto_merge": False,
             "other_customer_id": survivor, "actor": "sam"}
    kafka.produce(topic("identity-claims").name, key=f"{TENANT}:email:{email}", value=CODEC.encode("identity-claim", split))
    assert kafka.flush(10) == 0
    reader.wait_for(lambda r: of(r, "identity-events", "split"), 30)
    [undone] = of(reader.records, "identity-events", "split")
    assert (undone["customer_id"], undone["merged_customer_id"], undone["actor"]) == (absorbed, survivor, "sam")

    channel, user = thread.split(":")[1], thread.split(":", 3)[3]
    sent = []

    def own_customer_again(records):   # the split reached the absorbed thread: its new events are its own again
        return [e for e in of(records, "conversation-events", "message_added", thread_key=thread)
                if e["message_id"] in sent and e["customer_id"] == absorbed]
    for n in range(2, 8):   # the split's update and this message race on two topics: write until one is after it
        record = message(channel, user, "¿sigue ahí?", n)
        sent.append(record["event_id"])
        topics.produce("inbound-messages", [record])
        try:
            reader.wait_for(own_customer_again, 3)
            break
        except AssertionError:
            continue
    assert own_customer_again(reader.records)
