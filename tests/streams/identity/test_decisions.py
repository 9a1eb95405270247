"""Typed details suggest, people decide: suggestions, confirm, reject, split, and what each means for
the threads concerned (customer-updates)."""
from streams.identity.matching import customer_updates, decide

from .claims import claim, key


class Matcher:
    """Per-detail states and the decisions and thread updates so far."""

    def __init__(self):
        self.states, self.events, self.updates = {}, [], []

    def apply(self, record: dict) -> list[dict]:
        state, events = decide(self.states.get(key(record)), record)
        self.states[key(record)] = state
        self.events += events
        self.updates += customer_updates(state, record, events)
        return events


def typed(name: str, **overrides) -> dict:
    """The fixture claim as found in what the customer wrote (identity-claim v2 origin `text`)."""
    return claim(name, origin="text", message_id=f"in-{name}", **overrides)


def test_a_typed_email_matching_another_customer_is_only_a_suggestion_and_settles_the_thread():
    m, web = Matcher(), typed("web_email")
    m.apply(claim("messenger_email"))
    [created, suggested] = m.apply(web)
    assert suggested["type"] == "suggested" and suggested["customer_id"] == web["customer_id"]
    assert suggested["candidates"] == [claim("messenger_email")["customer_id"]]
    assert suggested["reason"].startswith("typed email matches the customer known from messenger")
    assert (suggested["origin"], suggested["message_id"]) == ("text", "in-web_email")
    [update] = m.updates[-1:]
    assert (update["kind"], update["thread_key"], update["claim_id"]) == ("settled", web["thread_key"], web["claim_id"])
    assert update["customer_id"] == web["customer_id"]


def test_the_tenant_may_merge_typed_details_at_once_and_every_thread_learns_the_survivor():
    m, messenger, web = Matcher(), claim("messenger_email"), typed("web_email", auto_merge=True)
    m.apply(messenger)
    [_, merged] = m.apply(web)
    survivor = min(messenger["customer_id"], web["customer_id"])
    assert merged["type"] == "merged" and merged["customer_id"] == survivor
    by_thread = {u["thread_key"]: u for u in m.updates if u["kind"] == "merged"}
    assert set(by_thread) == {messenger["thread_key"], web["thread_key"]}
    assert {u["customer_id"] for u in by_thread.values()} == {survivor}
    assert by_thread[web["thread_key"]]["group"] == sorted([messenger["customer_id"], web["customer_id"]])
    assert by_thread[web["thread_key"]]["claim_id"] == web["claim_id"] and by_thread[messenger["thread_key"]]["claim_id"] is None


def test_an_agent_confirms_a_suggestion_into_a_merge_or_rejects_it_for_good():
    m, messenger, web = Matcher(), claim("messenger_email"), typed("web_email")
    m.apply(messenger)
    m.apply(web)
    decision = dict(web, claim_id="confirm-1", action="confirm", source="agent_entered", origin="agent",
                    other_customer_id=messenger["customer_id"], actor="alice")
    [merged] = m.apply(decision)
    assert merged["type"] == "merged" and merged["actor"] == "alice" and merged["reason"].startswith("alice confirmed")
    assert {u["thread_key"] for u in m.updates if u["kind"] == "merged"} == {messenger["thread_key"], web["thread_key"]}

    m2 = Matcher()
    m2.apply(messenger)
    m2.apply(web)
    [rejected] = m2.apply(dict(decision, claim_id="reject-1", action="reject"))
    assert rejected["type"] == "rejected" and rejected["candidates"] == [messenger["customer_id"]]
    again = m2.apply(dict(web, claim_id="web-again", origin="form", thread_key=web["thread_key"] + "-2"))
    assert [e["type"] for e in again] == []   # already decided for this customer: recorded, nothing new


def test_a_split_gives_each_thread_its_own_customer_back_and_the_pair_never_auto_merges_again():
    m, messenger, web = Matcher(), claim("messenger_email"), claim("web_email")
    m.apply(messenger)
    [_, merged] = m.apply(web)
    absorbed, survivor = merged["merged_customer_id"], merged["customer_id"]
    absorbed_claim = messenger if messenger["customer_id"] == absorbed else web
    [split] = m.apply(dict(absorbed_claim, claim_id="split-1", action="split", other_customer_id=survivor,
                           actor="sam", source="agent_entered"))
    assert (split["type"], split["customer_id"], split["merged_customer_id"]) == ("split", absorbed, survivor)
    updates = {u["thread_key"]: u for u in m.updates if u["event_id"] == split["event_id"]}
    assert updates[absorbed_claim["thread_key"]]["kind"] == "split"
    assert updates[absorbed_claim["thread_key"]]["customer_id"] == absorbed
    assert updates[absorbed_claim["thread_key"]]["group"] == [absorbed]
    assert [e["type"] for e in m.apply(dict(absorbed_claim, claim_id="after-split"))] == []


def test_a_bsuid_beside_a_phone_links_them_and_a_bsuid_only_thread_is_the_same_customer():
    m = Matcher()
    both = claim("whatsapp_phone", detail_type="platform_user", detail_value="US.13491208655302741918",
                 claim_id="bsuid-with-phone")
    alone = claim("whatsapp_phone", detail_type="platform_user", detail_value="US.13491208655302741918",
                  claim_id="bsuid-alone", external_id="US.13491208655302741918",
                  thread_key="acme:whatsapp:109876543210987:US.13491208655302741918",
                  customer_id="cust-bsuid-only")
    m.apply(both)
    [_, merged] = m.apply(alone)
    assert merged["type"] == "merged" and {merged["customer_id"], merged["merged_customer_id"]} == \
        {both["customer_id"], "cust-bsuid-only"}
    assert merged["reason"] == "verified platform_user matches the customer known from whatsapp"
