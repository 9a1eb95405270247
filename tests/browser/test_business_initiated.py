"""Business-initiated WhatsApp templates through the whole running system (docs/channel-policies.md):
a supervisor records an opt-in and sends a template through the API; both policy stages approve it,
deliver sends it in the Cloud API's format, the simulated platform's delivered status is priced in
ClickHouse. A customer without opt-in, and a template with a wrong parameter count, are refused
before any platform call.

The template catalogue the account stage checks is the simulator's (deliver syncs it at start,
connectors/platform_sync.py): nothing here seeds it.
"""
from __future__ import annotations

import pytest

from tests.browser.workspace import PASSWORDS
from tests.kafka_fixture import wait_until

ACCOUNT = "109876543210987"   # deploy/accounts.yaml: the demo WhatsApp number (WABA 102290129340398)
ORDER_UPDATE = {"name": "order_update", "language": "en_US", "parameters": ["A-1042"]}   # utility, 1 parameter


@pytest.fixture
def sofia(browser, running_system):
    """The demo supervisor's API session."""
    context = browser.new_context(base_url=running_system.edge_url)
    signed_in = context.request.post("/api/v1/auth/login", data={
        "tenant": running_system.tenant, "username": "sofia", "password": PASSWORDS["sofia"]})
    assert signed_in.ok, signed_in.text()
    yield context.request
    context.close()


def notify(sofia, recipient: str, template: dict) -> str:
    answer = sofia.post("/api/v1/notifications", data={"channel": "whatsapp", "channel_account_id": ACCOUNT,
                                                        "recipient_id": recipient, "template": template})
    assert answer.status == 202, answer.text()
    return answer.json()["outbound_id"]


def outcome(sofia, outbound_id: str, done, timeout: float = 60) -> dict:
    """GET /notifications/{id} until `done(answer)` (the facts arrive within seconds)."""
    last = []

    def answered():
        got = sofia.get(f"/api/v1/notifications/{outbound_id}")
        last[:] = [got.text()]
        return got.json() if got.status == 200 and done(got.json()) else None
    try:
        return wait_until(answered, timeout, f"notification {outbound_id} to be {done.__doc__}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer: {last[0] if last else None}") from None


def delivered(answer: dict) -> bool:
    """delivered"""
    return any(d["status"] == "delivered" for d in answer["deliveries"])


def refused(answer: dict) -> bool:
    """refused"""
    return answer["state"] == "rejected"


def test_a_template_to_an_opted_in_customer_is_sent_and_priced_and_others_are_refused_first(sofia, running_system):
    system = running_system
    amara, ben = system.customer("whatsapp"), system.customer("whatsapp")
    key = f"{system.tenant}:whatsapp:{ACCOUNT}:{amara['phone']}"
    opted = sofia.post("/api/v1/consents", data={"channel": "whatsapp", "channel_account_id": ACCOUNT,
                                                 "recipient_id": amara["phone"], "action": "opt_in", "source": "web_form"})
    assert opted.status == 202, opted.text()
    # The thread stage applied it when the thread's policy view says so (consents and the template
    # are different topics: the template must not overtake the opt-in).
    applied = lambda views: any(v.get("thread_key") == key and v["opted_in"] for v in views)  # noqa: E731
    assert applied(system.read("policy-views", applied, timeout=30)), "the opt-in never reached the thread's view"

    # The account stage has the catalogue once its portfolio's view lists the templates (deliver's
    # first sync may come seconds after the system started: the simulator starts after deliver).
    synced = lambda views: any(v["kind"] == "account" and v["templates"] for v in views)  # noqa: E731
    assert synced(system.read("policy-views", synced, timeout=60)), "no template catalogue reached the account stage"

    sent_id = notify(sofia, amara["phone"], ORDER_UPDATE)
    sent = system.wait_received("whatsapp", lambda r: isinstance(r["body"], dict) and r["body"].get("type") == "template"
                                and r["body"]["to"] == amara["phone"], timeout=60)
    assert sent["body"]["template"] == {"name": "order_update", "language": {"code": "en_US"},
                                        "components": [{"type": "body", "parameters": [{"type": "text", "text": "A-1042"}]}]}
    answer = outcome(sofia, sent_id, delivered)
    assert answer["approved"]["category"] == "utility"   # filled from the catalogue by the account stage
    # Business-initiated (the customer never wrote): billed as a utility template.
    priced = wait_until(lambda: next((d for d in outcome(sofia, sent_id, delivered)["deliveries"]
                                      if d["status"] == "delivered" and d["cost"] is not None), None),
                        30, "the delivered template's cost")
    assert priced["currency"] == "USD" and float(priced["cost"]) > 0

    no_opt_in = outcome(sofia, notify(sofia, ben["phone"], ORDER_UPDATE), refused)
    assert no_opt_in["rejected"]["rule"] == "optin.required" and "/api/v1/consents" in no_opt_in["rejected"]["reason"]
    wrong = outcome(sofia, notify(sofia, amara["phone"], ORDER_UPDATE | {"parameters": []}), refused)
    assert wrong["rejected"]["rule"] == "template.parameters"
    # Both decided before any call: the platform got one template for Amara and none for Ben.
    to = [r["body"]["to"] for r in system.received("whatsapp")
          if isinstance(r["body"], dict) and r["body"].get("type") == "template"]
    assert to.count(amara["phone"]) == 1 and ben["phone"] not in to
