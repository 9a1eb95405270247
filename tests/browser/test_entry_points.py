"""Entry points end to end in the running system (no page): a Messenger m.me referral and a
click-to-WhatsApp ad, posted to the edge as the platforms sign them, put the entry point's campaign
on the conversation's facts (issue 11, "Done when")."""
from __future__ import annotations

import json
import random
import time
import urllib.request
import uuid

import pytest

from schemas import Codec
from switchboard.accounts import load_accounts
from switchboard.directory import DirectoryView, DirectoryWriter
from tests.connectors.helpers import SIGNING, webhook
from tests.kafka_fixture import wait_until

MESSENGER_PAGE, WHATSAPP_NUMBER = "104729385610293", "109876543210987"   # deploy/accounts.yaml
FACTS = """SELECT entry_point_id, campaign_id, referral_source, referral_source_id FROM conversation_facts FINAL
WHERE tenant_id = {tenant:String} AND thread_key = {thread:String} AND started_at IS NOT NULL"""


def entry_points(system, run: str, ad_id: str) -> None:
    """This run's entry points in the directory, seen by a fresh view (the worker follows the same topic)."""
    conf = {"bootstrap.servers": system.bootstrap}
    writer, view = DirectoryWriter(conf, Codec()), DirectoryView(conf, Codec()).start()
    try:
        writer.put(system.tenant, "entry_point", f"poster-{run}", {
            "channel": "messenger", "account_id": MESSENGER_PAGE, "campaign": f"spring-{run}"}, "test")
        writer.put(system.tenant, "entry_point", f"ad-{run}", {
            "channel": "whatsapp", "account_id": WHATSAPP_NUMBER, "campaign": f"ads-{run}", "ad_ids": [ad_id]}, "test")
        view.wait_ready()
        wait_until(lambda: view.entry_point(system.tenant, f"ad-{run}"), 15, "the entry points in the directory")
    finally:
        writer.close()
        view.close()


def post(system, channel: str, account_id: str, data: dict) -> None:
    """One webhook to the system's edge, signed with the account's app secret."""
    secret = load_accounts(system.data_dir.parent / "accounts.yaml").get(channel, account_id).signing_secrets()[0]
    body = json.dumps(data).encode()
    header, render = SIGNING[channel]
    request = urllib.request.Request(f"{system.edge_url}/webhooks/{channel}/{account_id}", body,
                                     {header: render(secret, body), "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as answer:
        assert answer.status == 200


def fixture(channel: str, name: str) -> dict:
    return json.loads(webhook(channel, name))


def started_facts(facts, system, thread_key: str) -> tuple:
    def found():
        rows = facts.query(FACTS, parameters={"tenant": system.tenant, "thread": thread_key}).result_rows
        return rows[0] if rows and rows[0][1] else None
    return wait_until(found, 60, f"the campaign on the facts of {thread_key}")


def test_a_messenger_ref_and_a_whatsapp_ad_put_the_campaign_on_the_conversation_facts(running_system, facts):
    system, run = running_system, uuid.uuid4().hex[:8]
    ad_id, psid = f"1202{random.randrange(10**11, 10**12)}", f"71{random.randrange(10**13, 10**14)}"
    wa_id, now = f"234{random.randrange(10**9, 10**10)}", int(time.time() * 1000)
    entry_points(system, run, ad_id)

    referral = fixture("messenger", "referral")           # the m.me link opens the thread: no message yet
    event = referral["entry"][0]["messaging"][0]
    event.update(sender={"id": psid}, timestamp=now)
    event["referral"]["ref"] = f"poster-{run}"
    post(system, "messenger", MESSENGER_PAGE, referral)
    text = fixture("messenger", "url")                    # then the customer writes
    event = text["entry"][0]["messaging"][0]
    event.update(sender={"id": psid}, timestamp=now + 1000)
    event["message"]["mid"] = f"m_{run}"
    post(system, "messenger", MESSENGER_PAGE, text)

    ad = fixture("whatsapp", "ad_referral")               # a message sent from a click-to-WhatsApp ad
    value = ad["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update(id=f"wamid.{run}", timestamp=str(now // 1000))
    value["messages"][0]["from"] = wa_id
    value["messages"][0]["referral"]["source_id"] = ad_id
    post(system, "whatsapp", WHATSAPP_NUMBER, ad)

    assert started_facts(facts, system, f"{system.tenant}:messenger:{MESSENGER_PAGE}:{psid}") == (
        f"poster-{run}", f"spring-{run}", "shortlink", None)
    assert started_facts(facts, system, f"{system.tenant}:whatsapp:{WHATSAPP_NUMBER}:{wa_id}") == (
        f"ad-{run}", f"ads-{run}", "ad", ad_id)
