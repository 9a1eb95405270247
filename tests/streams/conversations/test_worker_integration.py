"""The conversation processor in a real `switchboard worker` against the real broker."""
import threading
import time
import uuid

import pytest

from streams.conversations.samples import on_thread

from .factory import HOUR, MINUTE, event, inbound
from .offsets import report

pytestmark = pytest.mark.kafka
NOW = int(time.time() * 1000)


def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def message(tenant_id: str, user: str, n: int, at: int, account: str = "109876543210987") -> dict:
    return on_thread(inbound(n, at, platform_message_id=f"wamid.{user}.{n}", event_id=f"in-{tenant_id}-{user}-{n}"),
                     f"{tenant_id}:whatsapp:{account}:{user}")


def added(values):
    return [v for v in values if v["type"] == "message_added"]


def by_thread(values) -> dict[str, set[str]]:
    threads = {}
    for v in added(values):
        threads.setdefault(v["thread_key"].rsplit(":", 1)[1], set()).add(v["conversation_id"])
    return threads


def test_messages_71h59_apart_thread_together_and_72h01_apart_do_not(streams_worker, topics):
    t = tenant()
    topics.produce("inbound-messages", [
        message(t, "a", 1, NOW - 71 * HOUR - 59 * MINUTE), message(t, "a", 2, NOW),
        message(t, "b", 1, NOW - 72 * HOUR - 1 * MINUTE), message(t, "b", 2, NOW)])
    values = topics.collect("conversation-events", t, lambda v: len(added(v)) >= 4)
    assert {user: len(convs) for user, convs in by_thread(values).items()} == {"a": 1, "b": 2}


def test_an_account_window_of_one_hour_splits_after_61_minutes_there_only(streams_worker, topics):
    t = tenant()
    topics.produce("inbound-messages", [
        message(t, "short", 1, NOW - 61 * MINUTE, account="109876543210999"),
        message(t, "short", 2, NOW, account="109876543210999"),
        message(t, "long", 1, NOW - 61 * MINUTE), message(t, "long", 2, NOW)])
    values = topics.collect("conversation-events", t, lambda v: len(added(v)) >= 4)
    assert {user: len(convs) for user, convs in by_thread(values).items()} == {"short": 2, "long": 1}


def test_a_webhook_delivered_three_times_yields_one_message(streams_worker, topics):
    t = tenant()
    first = message(t, "c", 1, NOW)
    topics.produce("inbound-messages", [first, first | {"redelivery": True}, first, message(t, "c", 2, NOW + 1)])
    values = topics.collect("conversation-events", t, lambda v: len(added(v)) >= 2)
    time.sleep(1)   # anything extra would have arrived with the second message
    values = topics.collect("conversation-events", t, lambda v: len(added(v)) >= 3, timeout=2)
    assert sorted(v["message_id"] for v in added(values)) == [first["event_id"], f"in-{t}-c-2"]


def test_a_routing_request_for_an_ongoing_conversation_names_its_last_agent(streams_worker, topics):
    t = tenant()
    first = message(t, "d", 1, NOW - 10 * MINUTE)
    topics.produce("inbound-messages", [first])
    [request] = topics.collect("routing-requests", t, lambda v: len(v) >= 1)
    assert request["reason"] == "new_conversation" and request["first_message_text"] == first["text"]
    conversation = request["conversation_id"]
    assignment = {"conversation_id": conversation, "tenant_id": t, "thread_key": first["thread_key"]}
    topics.produce("assignments", [
        event("assignment_connected", occurred_at=NOW - 9 * MINUTE, assignment_id=f"{t}-1") | assignment,
        event("assignment_ended", occurred_at=NOW - 5 * MINUTE, assignment_id=f"{t}-2") | assignment])
    # Topics are not ordered among each other: let the end reach the state before the customer writes.
    topics.collect("conversation-events", t, lambda v: any(e["type"] == "interaction_ended" for e in v))
    topics.produce("inbound-messages", [message(t, "d", 2, NOW)])
    requests = topics.collect("routing-requests", t, lambda v: len(v) >= 2)
    assert (requests[1]["reason"], requests[1]["preferred_agent_id"]) == ("no_agent", "agent-ana")
    assert requests[1]["conversation_id"] == conversation and len(requests[1]["history"]) == 2
    types = [v["type"] for v in topics.collect("conversation-events", t, lambda v: len(v) >= 7)]
    assert types == ["started", "message_added", "agent_assigned", "agent_ended", "wrapped_up", "interaction_ended",
                     "message_added"]


def test_whatsapp_phone_claims_go_to_the_identity_matcher(streams_worker, topics):
    t = tenant()
    topics.produce("inbound-messages", [message(t, "e", 1, NOW), message(t, "e", 2, NOW + 1)])
    claims = topics.collect("identity-claims", t, lambda v: len(v) >= 1)
    assert [(c["detail_value"], c["source"]) for c in claims] == [("14155550123", "platform_verified")]


def test_the_timer_closes_an_inactive_conversation(streams_worker, topics):
    t = tenant()
    topics.produce("inbound-messages", [message(t, "f", 1, NOW - 73 * HOUR)])
    values = topics.collect("conversation-events", t, lambda v: any(e["type"] == "closed" for e in v))
    closed = [v for v in values if v["type"] == "closed"]
    assert closed and closed[0]["reason"] == "inactivity" and closed[0]["occurred_at"].timestamp() * 1000 == NOW - HOUR
    requests = topics.collect("routing-requests", t, lambda v: any(r["reason"] == "closed" for r in v))
    # The WhatsApp message claims its phone, so its conversation is routed once identity answers;
    # arriving 73 h late, it is closed by the next 1 s scan, which may come first (then routing,
    # told only of the close, never offers it).
    assert [r["reason"] for r in requests] in (["new_conversation", "closed"], ["closed"])


def connected_thread(topics, t: str, user: str) -> dict:
    """A thread whose customer wrote a minute ago and to which agent-ana is connected."""
    first = message(t, user, 1, NOW - MINUTE)
    topics.produce("inbound-messages", [first])
    [request] = topics.collect("routing-requests", t, lambda v: len(v) >= 1)
    topics.produce("assignments", [event("assignment_connected", occurred_at=NOW - MINUTE + 1, assignment_id=f"{t}-c",
                                         conversation_id=request["conversation_id"], tenant_id=t,
                                         thread_key=first["thread_key"])])
    topics.collect("conversation-events", t, lambda v: any(e["type"] == "agent_assigned" for e in v))
    return first


def test_outbound_replies_are_approved_or_rejected_by_policy(streams_worker, topics):
    t = tenant()
    first = connected_thread(topics, t, "g")
    reply = event("outbound_reply", outbound_id=f"{t}-ok", tenant_id=t, thread_key=first["thread_key"], recipient_id="g")
    late = reply | {"outbound_id": f"{t}-no", "content": [{"type": "text", "text": "a" * 5000}]}
    topics.produce("outbound-messages", [reply, late])
    [approved] = topics.collect("outbound-approved", t, lambda v: len(v) >= 1)
    [rejected] = topics.collect("outbound-rejected", t, lambda v: len(v) >= 1)
    assert approved["outbound_id"] == f"{t}-ok" and approved["conversation_id"]
    assert (rejected["outbound_id"], rejected["rule"]) == (f"{t}-no", "limit.text_length")


def test_a_forged_reply_and_a_reply_to_another_threads_customer_are_rejected_and_never_delivered(streams_worker, topics):
    t = tenant()
    first = connected_thread(topics, t, "h")
    reply = event("outbound_reply", tenant_id=t, thread_key=first["thread_key"], recipient_id="h")
    forged = reply | {"outbound_id": f"{t}-forged", "agent_id": "agent-mallory"}
    elsewhere = reply | {"outbound_id": f"{t}-elsewhere", "recipient_id": "14155550999"}
    fine = reply | {"outbound_id": f"{t}-fine"}
    topics.produce("outbound-messages", [forged, elsewhere, fine])
    rejected = topics.collect("outbound-rejected", t, lambda v: len(v) >= 2)
    assert {r["outbound_id"]: r["rule"] for r in rejected} == {
        f"{t}-forged": "sender.not_connected", f"{t}-elsewhere": "recipient.not_thread_customer"}
    assert all(r["reason"] for r in rejected)
    # outbound-messages is one ordered partition for the thread: once `fine` is out, the others were decided.
    approved = topics.collect("outbound-approved", t, lambda v: any(a["outbound_id"] == f"{t}-fine" for a in v))
    assert [a["outbound_id"] for a in approved] == [f"{t}-fine"]
    feed = topics.collect("agent-notifications", t, lambda v: any(e["type"] == "rejected" for e in v)
                          and any(e["type"] == "message" and e["direction"] == "outbound" for e in v))
    assert {e["agent_id"] for e in feed if e["type"] == "rejected"} <= {"agent-mallory", "agent-ana"}


def test_the_customer_writing_after_the_agent_ended_continues_the_conversation(streams_worker, topics):
    t = tenant()
    first = connected_thread(topics, t, "k")
    [request] = topics.collect("routing-requests", t, lambda v: len(v) >= 1)
    topics.produce("assignments", [event("assignment_ended", occurred_at=NOW - 30_000, assignment_id=f"{t}-e",
                                         conversation_id=request["conversation_id"], tenant_id=t,
                                         thread_key=first["thread_key"])])
    topics.collect("conversation-events", t, lambda v: any(e["type"] == "interaction_ended" for e in v))
    topics.produce("inbound-messages", [message(t, "k", 2, NOW)])
    requests = topics.collect("routing-requests", t, lambda v: len(v) >= 2)
    assert (requests[1]["conversation_id"], requests[1]["preferred_agent_id"]) == (request["conversation_id"], "agent-ana")
    [ended] = [e for e in topics.collect("conversation-events", t, lambda v: len(v) >= 6) if e["type"] == "interaction_ended"]
    assert ended["reason"] == "agent_ended"


def test_undecodable_bytes_go_to_the_dead_letter_topic(streams_worker, topics):
    key = f"{tenant()}:whatsapp:109876543210987:z"
    topics.produce("inbound-messages", [], raw=b"not avro", key=key)
    letters = topics.collect("inbound-messages-dlq", "", lambda v: any(d["key"] == key.encode() for d in v))
    [letter] = [d for d in letters if d["key"] == key.encode()]
    assert letter["value"] == b"not avro" and letter["headers"]["stage"] == b"streams.conversations"
    assert letter["headers"]["source.topic"] == b"inbound-messages" and b"DecodeError" in letter["headers"]["error"]


def test_kill_9_mid_stream_loses_nothing_and_duplicates_only_identical_events(streams_worker, topics, kafka_bootstrap):
    t = tenant()
    batch = [message(t, f"u{n % 50}", n, NOW - 1000 + n) for n in range(1000)]
    # The stream keeps flowing while the worker dies: 50 messages every 50 ms from another thread.
    feeder = threading.Thread(target=lambda: [
        (topics.produce("inbound-messages", batch[i:i + 50]), time.sleep(0.05)) for i in range(0, len(batch), 50)])
    feeder.start()
    before = topics.collect("conversation-events", t, lambda v: len(added(v)) >= 200)
    streams_worker.kill()
    feeder.join()
    assert len({e["message_id"] for e in added(before)}) < len(batch)        # killed mid-stream
    streams_worker.start()
    values = topics.collect("conversation-events", t,
                            lambda v: len({e["message_id"] for e in added(v)}) >= len(batch), timeout=40)
    unique = {v["event_id"]: v for v in values}
    missing = {m["event_id"] for m in batch} - {v["message_id"] for v in added(unique.values())}
    group = streams_worker.args[streams_worker.args.index("--app-id") + 1]
    assert not missing, report(kafka_bootstrap, group, "inbound-messages", t, missing, streams_worker.log)
    assert sorted(v["message_id"] for v in added(unique.values())) == sorted(m["event_id"] for m in batch)
    for v in values:
        assert v == unique[v["event_id"]]          # a replayed event is the same event


def test_x_and_line_policy_through_the_worker(streams_worker, topics):
    """A sticker to X goes as its emoji, an identical repeat is refused, a LINE reply takes the token once."""
    t = tenant()
    x = connected_on(topics, t, f"{t}:x:1466859271035789312:xu", "inbound_whatsapp")
    line = connected_on(topics, t, f"{t}:line:U4af4980629a1b2c3d4e5f60718293a4b:lu", "inbound_line_text",
                        received_at=int(time.time() * 1000))
    to_x = on_thread(event("outbound_reply", tenant_id=t, recipient_id="xu"), x["thread_key"])
    to_line = on_thread(event("outbound_reply", tenant_id=t, recipient_id="lu"), line["thread_key"])
    topics.produce("outbound-messages", [
        to_x | {"outbound_id": f"{t}-sticker", "content": [{"type": "sticker", "sticker_id": "wave"}]},
        to_x | {"outbound_id": f"{t}-x1"}, to_x | {"outbound_id": f"{t}-x2"},
        to_line | {"outbound_id": f"{t}-l1"}, to_line | {"outbound_id": f"{t}-l2", "content": [{"type": "text", "text": "More"}]}])
    approved = {a["outbound_id"]: a for a in topics.collect("outbound-approved", t, lambda v: len(v) >= 4)}
    [rejected] = topics.collect("outbound-rejected", t, lambda v: len(v) >= 1)
    sticker = approved[f"{t}-sticker"]
    assert (sticker["content"][0]["text"], sticker["attributes"]["fallbacks"]) == ("👋", "sticker:emoji")
    assert (rejected["outbound_id"], rejected["rule"]) == (f"{t}-x2", "spam.x_identical")
    # The policy's clock is the record time: within the minute since the LINE webhook arrived.
    assert [approved[f"{t}-l{n}"]["reply_token"] for n in (1, 2)] == [line["reply_token"], None]


def connected_on(topics, t: str, thread_key: str, fixture: str, **overrides) -> dict:
    """A thread (any channel) whose customer wrote a moment ago and to which agent-ana is connected."""
    first = on_thread(inbound(1, NOW - 1000, name=fixture, platform_message_id=f"{thread_key}.1",
                              event_id=f"in-{thread_key}-1", **overrides), thread_key)
    topics.produce("inbound-messages", [first])
    requests = topics.collect("routing-requests", t, lambda v: any(r["thread_key"] == thread_key for r in v))
    [request] = [r for r in requests if r["thread_key"] == thread_key]
    topics.produce("assignments", [event("assignment_connected", occurred_at=NOW - 999, assignment_id=f"{thread_key}-c",
                                         conversation_id=request["conversation_id"], tenant_id=t, thread_key=thread_key)])
    topics.collect("conversation-events", t, lambda v: any(e["type"] == "agent_assigned" and e["thread_key"] == thread_key
                                                           for e in v))
    return first


def test_a_whatsapp_template_needs_the_consent_record_and_then_goes_to_the_account_stage(streams_worker, topics):
    """Outside the 24 h window a template is refused without opt-in; the consent record applied, it goes
    to outbound-checks keyed by the portfolio, business-initiated."""
    t = tenant()
    first = message(t, "w", 1, NOW - 25 * HOUR)
    topics.produce("inbound-messages", [first])
    [request] = topics.collect("routing-requests", t, lambda v: len(v) >= 1)
    topics.produce("assignments", [event("assignment_connected", occurred_at=NOW - 25 * HOUR + 1, assignment_id=f"{t}-c",
                                         conversation_id=request["conversation_id"], tenant_id=t,
                                         thread_key=first["thread_key"])])
    topics.collect("conversation-events", t, lambda v: any(e["type"] == "agent_assigned" for e in v))
    template = on_thread(event("outbound_template", tenant_id=t, recipient_id="w", conversation_id=None), first["thread_key"])
    topics.produce("outbound-messages", [template | {"outbound_id": f"{t}-t1"}])
    [refused] = topics.collect("outbound-rejected", t, lambda v: len(v) >= 1)
    assert (refused["outbound_id"], refused["rule"]) == (f"{t}-t1", "optin.required")
    consent = on_thread(event("consent_api_opt_in", tenant_id=t, recipient_id="w", occurred_at=NOW - HOUR),
                        first["thread_key"])
    topics.produce("consents", [consent])
    topics.collect("policy-views", t, lambda v: any(p["opted_in"] for p in v))   # applied to the thread
    topics.produce("outbound-messages", [template | {"outbound_id": f"{t}-t2"}])
    [checked] = topics.collect("outbound-checks", t, lambda v: len(v) >= 1)
    # The portfolio is the account's (the accounts file lists it under tenant acme).
    assert (checked["outbound_id"], checked["business_initiated"], checked["portfolio_key"]) == (f"{t}-t2", True, "acme:main")
