"""The book folds agent-notifications into who has which conversation (pure)."""
from __future__ import annotations

from connectors.workspace.book import WRAPUP_LINGER_MS, Book

from .events import scenario, upto

TENANT = "t-book"
NOW = 1767261600000


def booked(events: list[dict]) -> Book:
    book = Book()
    for offset, event in enumerate(events):
        book.apply(event, f"1-{offset}")
    return book


def states(book: Book, tenant: str = TENANT, agent: str = "ana", now: int = NOW) -> dict[str, str]:
    return {e.fields["conversation_id"]: e.state for e in book.conversations(tenant, agent, now)}


def test_an_offer_then_its_assignment_then_the_wrapup():
    events = scenario(TENANT)["events"]
    assert states(booked(upto(events, "ae:ana:offered:o-1"))) == {"c-1": "offered"}
    assert states(booked(upto(events, "ae:ana:assigned:o-1"))) == {"c-1": "connected"}
    book = booked(events)
    entry = book.entry(TENANT, "ana", "c-1", NOW)
    assert entry.state == "wrapup" and entry.wrapup_mode == "mandatory"
    assert entry.wrapup_codes == ["card-blocked", "card-replaced"]
    assert entry.view()["thread_key"] == f"{TENANT}:whatsapp:wa-main:15551230001"


def test_a_revoked_offer_and_a_transfer_away_leave_the_book():
    events = scenario(TENANT)["events"]
    assert states(booked(upto(events, "ae:ana:offered:o-2")))["c-2"] == "offered"
    assert "c-2" not in states(booked(upto(events, "ae:ana:offer_revoked:o-2")))
    assert states(booked(upto(events, "ae:ana:assigned:o-3")))["c-3"] == "connected"
    assert states(booked(events)) == {"c-1": "wrapup"}


def test_tenants_and_agents_are_kept_apart():
    book = booked(scenario(TENANT)["events"] + scenario("t-other")["events"])
    assert book.entry("t-other", "ana", "c-1", NOW) is not None
    assert book.entry(TENANT, "ben", "c-1", NOW) is None
    assert [a for a, _e in book.holders(TENANT, "c-1")] == ["ana"]
    assert book.page(TENANT, "ana").last_event_id == "1-8"


def test_a_timed_wrapup_leaves_after_its_deadline():
    events = upto(scenario(TENANT)["events"], "ae:ana:conversation_ended:o-1")
    events.append({**events[-1], "type": "wrapup_required", "expires_at": NOW + 60_000, "reason": "time_boxed"})
    book = booked(events)
    assert book.entry(TENANT, "ana", "c-1", NOW + 60_000) is not None
    assert book.entry(TENANT, "ana", "c-1", NOW + 60_001 + WRAPUP_LINGER_MS) is None


def test_messages_count_unread_until_the_agent_answers_and_policy_is_kept():
    events = upto(scenario(TENANT)["events"], "ae:ana:assigned:o-1")
    base = {k: events[-1][k] for k in ("tenant_id", "agent_id", "conversation_id", "occurred_at")}
    book = booked(events + [{**base, "type": "message", "direction": "inbound"}] * 2
                  + [{**base, "type": "message", "direction": "inbound", "kind": kind} for kind in ("edit", "unsend")])
    assert book.entry(TENANT, "ana", "c-1", NOW).unread == 2
    book.apply({**base, "type": "message", "direction": "outbound"}, "1-9")
    book.apply({**base, "type": "policy", "policy": {"window_open_until": NOW + 1, "template_only": False}}, "1-10")
    entry = book.entry(TENANT, "ana", "c-1", NOW)
    assert entry.unread == 0 and entry.policy["window_open_until"] == NOW + 1


def test_presence_changes_are_kept_per_agent():
    book = Book()
    book.apply({"tenant_id": TENANT, "agent_id": "ana", "type": "presence_changed", "occurred_at": NOW,
                "presence": "on_queue"}, "0-1")
    assert book.page(TENANT, "ana").presence == "on_queue" and book.page(TENANT, "ben").presence is None


def test_the_agent_who_takes_a_transfer_keeps_it_when_told_from_whom():
    events = upto(scenario(TENANT)["events"], "ae:ana:assigned:o-1")
    taken = [{**e, "agent_id": "ben", "event_id": e["event_id"].replace("ana", "ben")} for e in events[-2:]]
    told = {**taken[-1], "type": "transferred", "from_agent_id": "ana", "note": "wants a manager",
            "transfer_target": "agent:ben", "reason": "blind"}
    book = booked(taken + [told])
    entry = book.entry(TENANT, "ben", "c-1", NOW)
    assert entry.state == "connected" and entry.fields["transfer_note"] == "wants a manager"


def test_pushed_messages_are_kept_once_with_their_receipts():
    events = upto(scenario(TENANT)["events"], "ae:ana:assigned:o-1")
    base = {k: events[-1][k] for k in ("tenant_id", "agent_id", "conversation_id", "occurred_at", "channel")}
    hello = {**base, "type": "message", "message_id": "in-1", "direction": "inbound", "text": "hola", "content": []}
    reply = {**base, "type": "message", "message_id": "ws-out-1", "direction": "outbound", "text": "hi", "content": []}
    book = booked(events + [hello, reply, hello, {**base, "type": "receipt", "message_id": "ws-out-1", "status": "read"}])
    kept = book.entry(TENANT, "ana", "c-1", NOW).messages
    assert [(m["message_id"], m["receipt"]) for m in kept] == [("in-1", None), ("ws-out-1", "read")]


def test_a_receipt_only_moves_forward_whatever_order_the_statuses_arrive_in():
    events = upto(scenario(TENANT)["events"], "ae:ana:assigned:o-1")
    base = {k: events[-1][k] for k in ("tenant_id", "agent_id", "conversation_id", "occurred_at", "channel")}
    reply = {**base, "type": "message", "message_id": "ws-out-1", "direction": "outbound", "text": "hi", "content": []}
    other = {**reply, "message_id": "ws-out-2"}

    def receipts(*statuses: tuple[str, str]) -> dict:
        told = [{**base, "type": "receipt", "message_id": message, "status": status} for message, status in statuses]
        return {m["message_id"]: m["receipt"] for m in booked(events + [reply, other] + told).entry(TENANT, "ana", "c-1", NOW).messages}

    # The web visitor's read (published by the edge) before deliver's sent; WhatsApp's delivered before sent.
    assert receipts(("ws-out-1", "read"), ("ws-out-1", "sent"), ("ws-out-2", "delivered"), ("ws-out-2", "sent")) \
        == {"ws-out-1": "read", "ws-out-2": "delivered"}
    assert receipts(("ws-out-1", "held"), ("ws-out-1", "sent"), ("ws-out-2", "sent"), ("ws-out-2", "failed"),
                    ("ws-out-2", "read")) == {"ws-out-1": "sent", "ws-out-2": "failed"}
