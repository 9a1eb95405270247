"""Messenger and WhatsApp send APIs: Meta's auth, validation, windows, answers and receipts."""
import json

import pytest

from tests.connectors.simulators.helpers import (HOUR, MARIA, advance, auth, customer_writes, error_shape, hex_mac,
                                                 outbound)

pytestmark = pytest.mark.asyncio(loop_scope="session")
MESSENGER = "/messenger/v21.0/me/messages"
WHATSAPP = "/whatsapp/v21.0/109876543210987/messages"


async def test_messenger_refuses_a_missing_or_wrong_token_with_code_190(simulator):
    sim, client = simulator
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = await client.post(MESSENGER, json=outbound("messenger/text.request"), headers=headers)
        assert response.status == 401
        keys, code, _ = error_shape(await response.json())
        expected_keys, expected_code, _ = error_shape(outbound("messenger/error_token.response"))
        # an unparsable token has no subcode; the fixture's 460 is a session invalidated by a password change
        assert (keys | {"error_subcode"}, code) == (expected_keys, expected_code)


async def test_messenger_accepts_the_token_as_query_parameter_and_sends_receipts(simulator, edge_recorder):
    sim, client = simulator
    await customer_writes(client, "messenger", MARIA["messenger"])
    response = await client.post(MESSENGER, params={"access_token": "demo-messenger-page-token"},
                                 json=outbound("messenger/text.request"))
    answer = await response.json()
    assert response.status == 200 and set(answer) == set(outbound("messenger/text.response"))
    assert answer["recipient_id"] == MARIA["messenger"] and answer["message_id"].startswith("m_")
    await sim.idle()
    receipts = [json.loads(r["body"])["entry"][0]["messaging"][0] for r in edge_recorder.posts("messenger")[1:]]
    assert [next(k for k in ("message", "delivery", "read") if k in e) for e in receipts] == ["message", "delivery", "read"]
    assert receipts[0]["message"]["is_echo"] and receipts[1]["delivery"]["mids"] == [answer["message_id"]]
    for r in edge_recorder.posts("messenger"):
        assert r["headers"]["X-Hub-Signature-256"] == "sha256=" + hex_mac("demo-messenger-app-secret", r["body"])


async def test_messenger_window_24h_then_human_agent_for_7_days(simulator):
    sim, client = simulator
    await customer_writes(client, "messenger", MARIA["messenger"])
    await advance(client, 25 * HOUR)
    refused = await client.post(MESSENGER, json=outbound("messenger/text.request"), headers=auth("messenger"))
    assert refused.status == 400
    assert error_shape(await refused.json()) == error_shape(outbound("messenger/error_outside_window.response"))
    tagged = await client.post(MESSENGER, json=outbound("messenger/text_human_agent.request"), headers=auth("messenger"))
    assert tagged.status == 200
    await advance(client, 7 * 24 * HOUR)
    late = await client.post(MESSENGER, json=outbound("messenger/text_human_agent.request"), headers=auth("messenger"))
    assert error_shape(await late.json())[1:] == (10, 2018278)


@pytest.mark.parametrize("change", [{"messaging_type": None}, {"recipient": None},
                                    {"message": {"text": "x" * 2001}}, {"message": {"text": "a", "sticker_id": 1}},
                                    {"messaging_type": "MESSAGE_TAG"}])
async def test_messenger_validates_the_body_like_meta(simulator, change):
    sim, client = simulator
    await customer_writes(client, "messenger", MARIA["messenger"])
    body = {k: v for k, v in (outbound("messenger/text.request") | change).items() if v is not None}
    response = await client.post(MESSENGER, json=body, headers=auth("messenger"))
    assert response.status == 400 and error_shape(await response.json())[1] == 100


@pytest.mark.parametrize("request_file", ["image.request", "sticker.request", "link.request", "text_quick_replies.request"])
async def test_messenger_accepts_every_documented_content(simulator, request_file):
    sim, client = simulator
    await customer_writes(client, "messenger", MARIA["messenger"])
    response = await client.post(MESSENGER, json=outbound(f"messenger/{request_file}"), headers=auth("messenger"))
    assert response.status == 200, await response.text()


async def test_whatsapp_token_and_body_errors(simulator):
    sim, client = simulator
    bad = await client.post(WHATSAPP, json=outbound("whatsapp/text.request"), headers={"Authorization": "Bearer x"})
    assert bad.status == 401 and error_shape(await bad.json())[1] == 190
    body = {k: v for k, v in outbound("whatsapp/text.request").items() if k != "messaging_product"}
    invalid = await client.post(WHATSAPP, json=body, headers=auth("whatsapp"))
    assert invalid.status == 400 and error_shape(await invalid.json())[1] == 100
    long = outbound("whatsapp/text.request") | {"text": {"body": "x" * 4097}}
    assert (await client.post(WHATSAPP, json=long, headers=auth("whatsapp"))).status == 400


async def test_whatsapp_sends_statuses_sent_delivered_read(simulator, edge_recorder):
    sim, client = simulator
    await customer_writes(client, "whatsapp", MARIA["whatsapp"])
    response = await client.post(WHATSAPP, json=outbound("whatsapp/text.request"), headers=auth("whatsapp"))
    answer = await response.json()
    assert response.status == 200 and set(answer) == set(outbound("whatsapp/text.response"))
    wamid = answer["messages"][0]["id"]
    await sim.idle()
    statuses = [json.loads(r["body"])["entry"][0]["changes"][0]["value"]["statuses"][0]
                for r in edge_recorder.posts("whatsapp")[1:]]
    assert [(s["id"], s["status"]) for s in statuses] == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]


async def test_whatsapp_free_form_after_24h_fails_with_131047_but_templates_pass(simulator, edge_recorder):
    sim, client = simulator
    await customer_writes(client, "whatsapp", MARIA["whatsapp"])
    await advance(client, 25 * HOUR)
    response = await client.post(WHATSAPP, json=outbound("whatsapp/text.request"), headers=auth("whatsapp"))
    assert response.status == 200  # the Cloud API accepts, then reports the failure as a status
    await sim.idle()
    failed = json.loads(edge_recorder.posts("whatsapp")[-1]["body"])["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    sim.platforms["whatsapp"].window_error = "response"
    sync = await client.post(WHATSAPP, json=outbound("whatsapp/text.request"), headers=auth("whatsapp"))
    assert error_shape(await sync.json()) == error_shape(outbound("whatsapp/error_131047.response"))
    template = await client.post(WHATSAPP, json=outbound("whatsapp/template.request"), headers=auth("whatsapp"))
    assert template.status == 200 and set(await template.json()) == set(outbound("whatsapp/template.response"))


@pytest.mark.parametrize("template,code", [({"name": "no_such_template"}, 132001),
                                           ({"language": {"code": "xx_XX"}}, 132001),
                                           ({"components": [{"type": "body", "parameters": [{"type": "text", "text": "a"}]}]}, 132000)])
async def test_whatsapp_checks_templates_against_the_catalogue(simulator, template, code):
    sim, client = simulator
    body = outbound("whatsapp/template.request")
    body["template"] |= template
    response = await client.post(WHATSAPP, json=body, headers=auth("whatsapp"))
    assert response.status == 400 and error_shape(await response.json())[1] == code
