"""The identity decision, pure: links, merges, flags, idempotence, and merge graphs without cycles."""
import random

import pytest

from streams.identity.matching import MAX_MEMBERS, decide

from .claims import claim, key


class Matcher:
    """Per-detail states as the table holds them, and every event decided so far."""

    def __init__(self):
        self.states, self.events = {}, []

    def apply(self, record: dict) -> list[dict]:
        """Decide one claim on its detail's state and keep the result."""
        state, events = decide(self.states.get(key(record)), record)
        self.states[key(record)] = state
        self.events += events
        return events

    def of(self, kind: str) -> list[dict]:
        """The events of one type."""
        return [e for e in self.events if e["type"] == kind]

    def customer(self, customer_id: str) -> str:
        """Where `customer_id`'s history goes: follow merges to the end of the chain."""
        pointers = {e["merged_customer_id"]: e["customer_id"] for e in self.of("merged")}
        seen = [customer_id]
        while seen[-1] in pointers:
            assert pointers[seen[-1]] not in seen, f"merge cycle {seen}"
            seen.append(pointers[seen[-1]])
        return seen[-1]


def _types(events):
    return [e["type"] for e in events]


def test_unknown_detail_creates_the_customer_and_links_the_detail_with_its_reason():
    m = Matcher()
    events = m.apply(claim("whatsapp_phone"))
    assert _types(events) == ["created", "linked"]
    linked = events[1]
    assert linked["customer_id"] == claim("whatsapp_phone")["customer_id"]
    assert linked["reason"] == "verified phone linked to the customer from whatsapp"
    assert (linked["detail_type"], linked["detail_value"]) == ("phone", "14155550123")
    assert m.states[key(linked)]["owner_source"] == "platform_verified"


def test_whatsapp_messages_from_one_phone_to_two_of_our_numbers_join_one_customer():
    m = Matcher()
    m.apply(claim("whatsapp_phone"))
    assert m.apply(claim("whatsapp_phone_second_number")) == []  # the same wa_id is the same customer
    assert m.apply(claim("whatsapp_bsuid_phone"))[-1]["type"] == "merged"  # a BSUID: another id, same phone
    ids = {claim(n)["customer_id"] for n in ("whatsapp_phone", "whatsapp_bsuid_phone")}
    assert {m.customer(i) for i in ids} == {min(ids)}
    assert m.of("merged")[0]["reason"] == "verified phone matches the customer known from whatsapp"


def test_web_customer_volunteering_the_email_known_from_messenger_becomes_the_same_customer():
    m = Matcher()
    m.apply(claim("messenger_email"))
    events = m.apply(claim("web_email"))
    assert _types(events) == ["created", "merged"]
    merged, web, messenger = events[1], claim("web_email"), claim("messenger_email")
    assert {merged["customer_id"], merged["merged_customer_id"]} == {web["customer_id"], messenger["customer_id"]}
    assert merged["reason"] == "volunteered email matches the customer known from messenger"
    assert merged["thread_key"] == web["thread_key"] and merged["detail_value"] == "maria@example.com"
    assert m.customer(web["customer_id"]) == m.customer(messenger["customer_id"])


@pytest.mark.parametrize("first,second,reason", [
    ("messenger_email", "web_email_other_person", "the names differ"),          # volunteered, another name
    ("whatsapp_phone", "open_phone", None),                                      # no name: compatible -> merge
    ("open_phone", "whatsapp_phone", None),                                      # verified claim, no known name
])
def test_names_decide_between_merge_and_flag(first, second, reason):
    m = Matcher()
    m.apply(claim(first))
    kind = m.apply(claim(second))[-1]
    assert kind["type"] == ("flagged" if reason else "merged")
    if reason:
        assert kind["reason"].endswith(reason) and kind["candidates"] == [claim(first)["customer_id"]]
        assert kind["customer_id"] == claim(second)["customer_id"] and kind["merged_customer_id"] is None


def test_ambiguous_detail_is_flagged_never_merged_and_stays_ambiguous():
    m = Matcher()
    m.apply(claim("messenger_email"))
    m.apply(claim("web_email_other_person"))
    events = m.apply(claim("web_email"))  # a compatible name, but the detail is already ambiguous
    assert _types(events) == ["created", "flagged"]
    assert events[1]["reason"].endswith("email already matches 2 customers")
    assert len(events[1]["candidates"]) == 2 and m.of("merged") == []
    state = m.states[key(events[1])]
    assert state["owner_customer_id"] == claim("messenger_email")["customer_id"]


def test_unknown_sources_never_merge():
    m = Matcher()
    m.apply(claim("messenger_email"))
    assert m.apply(claim("web_email", source="other"))[-1]["type"] == "flagged"


def test_replays_are_idempotent_and_a_crash_before_the_write_gives_identical_events():
    first = claim("messenger_email")
    state, _ = decide(None, first)
    before = state
    state, events = decide(state, claim("web_email"))
    assert decide(state, claim("web_email")) == (state, [])           # applied: nothing again
    assert decide(before, claim("web_email")) == (state, events)      # not written: the same events
    assert decide(state, first) == (state, [])                        # the owner claiming again


def test_a_customer_is_created_once_whatever_detail_sees_it_first():
    email = decide(None, claim("open_phone", detail_type="email", detail_value="maria@example.com"))[1][0]
    phone = decide(None, claim("open_phone"))[1][0]
    assert email["type"] == phone["type"] == "created" and email["event_id"] == phone["event_id"]


def test_chain_a_b_c_resolves_to_a():
    m, base = Matcher(), claim("web_email", display_name=None)
    e1 = {"detail_type": "email", "detail_value": "one@example.com"}
    e2 = {"detail_type": "phone", "detail_value": "14155550199"}
    for customer, detail in [("cust-a", e1), ("cust-b", e1), ("cust-b", e2), ("cust-c", e2)]:
        m.apply(base | detail | {"customer_id": customer, "claim_id": f"{customer}-{detail['detail_type']}"})
    merges = [(e["merged_customer_id"], e["customer_id"]) for e in m.of("merged")]
    assert merges == [("cust-b", "cust-a"), ("cust-c", "cust-b")]
    assert {m.customer(c) for c in ("cust-a", "cust-b", "cust-c")} == {"cust-a"}


def test_crossed_claims_on_two_details_never_make_a_cycle():
    m, base = Matcher(), claim("web_email", display_name=None)
    e1 = {"detail_type": "email", "detail_value": "one@example.com"}
    e2 = {"detail_type": "email", "detail_value": "two@example.com"}
    for customer, detail in [("cust-b", e1), ("cust-a", e2), ("cust-a", e1), ("cust-b", e2)]:
        m.apply(base | detail | {"customer_id": customer, "claim_id": f"{customer}-{detail['detail_value']}"})
    assert {(e["merged_customer_id"], e["customer_id"]) for e in m.of("merged")} == {("cust-b", "cust-a")}


def test_random_claims_never_merge_a_customer_into_itself_or_into_a_cycle():
    rng, m = random.Random(7), Matcher()
    base = claim("web_email", display_name=None)
    for n in range(400):
        customer, detail = f"cust-{rng.randrange(30):02}", f"d{rng.randrange(25)}@example.com"
        source = rng.choice(["platform_verified", "customer_volunteered", "agent_entered"])
        m.apply(base | {"customer_id": customer, "detail_value": detail, "source": source, "claim_id": f"c{n}"})
    assert m.of("merged") and all(e["customer_id"] < e["merged_customer_id"] for e in m.of("merged"))
    assert all(m.customer(f"cust-{i:02}") for i in range(30))  # asserts no cycle on the way


def test_a_detail_shared_by_too_many_customers_is_flagged_and_stays_bounded():
    m, base = Matcher(), claim("web_email", display_name=None)
    for n in range(MAX_MEMBERS + 3):
        m.apply(base | {"customer_id": f"cust-{n:03}", "claim_id": f"c{n}", "source": "customer_volunteered",
                        "display_name": f"Person {n}"})
    assert len(m.states[key(base)]["members"]) == MAX_MEMBERS
    assert m.of("flagged")[-1]["reason"].endswith(f"already matches {MAX_MEMBERS} customers")


@pytest.mark.parametrize("change", [{"customer_id": ""}, {"detail_type": "other"}, {"detail_value": ""}])
def test_unusable_claims_are_refused(change):
    with pytest.raises(ValueError):
        decide(None, claim("web_email", **change))


def test_every_event_names_the_claimants_identity_as_the_claim_does():
    m = Matcher()
    m.apply(claim("messenger_email"))
    events = m.apply(claim("web_email"))
    assert _types(events) == ["created", "merged"]
    assert [e["display_name"] for e in events] == ["maria lopez", "maria lopez"]   # the web form's, as typed
    assert [e["display_name"] for e in m.apply(claim("open_phone"))] == [None, None]
