"""LINE, X and Open Messaging send APIs: auth, validation, idempotency, allowances and receipts."""
import json
import uuid

import pytest

from tests.connectors.simulators.helpers import (HOUR, KENJI_LINE, MARIA, advance, auth, b64_mac, customer_writes,
                                                 outbound, outbound_bytes)

pytestmark = pytest.mark.asyncio(loop_scope="session")
PUSH, REPLY = "/line/v2/bot/message/push", "/line/v2/bot/message/reply"
X_SEND = "/x/2/dm_conversations/with/{}/messages"
OPEN = "/open/acme-sms-gateway/messages"


async def test_line_refuses_a_wrong_token_like_line(simulator):
    sim, client = simulator
    response = await client.post(PUSH, json=outbound("line/push_text.request"), headers={"Authorization": "Bearer no"})
    assert response.status == 401 and await response.json() == outbound("line/error_401.response")
    missing = await client.post(PUSH, json=outbound("line/push_text.request"))
    assert missing.status == 401 and "message" in await missing.json()


async def test_line_push_retry_key_answers_409_the_second_time(simulator, edge_recorder):
    sim, client = simulator
    headers = auth("line") | {"X-Line-Retry-Key": str(uuid.uuid4())}
    first = await client.post(PUSH, json=outbound("line/push_text.request"), headers=headers)
    sent = await first.json()
    assert first.status == 200 and set(sent) == set(outbound("line/push_text.response"))
    again = await client.post(PUSH, json=outbound("line/push_text.request"), headers=headers)
    assert again.status == 409 and set(await again.json()) == set(outbound("line/error_409.response"))
    assert (await again.json())["sentMessages"] == sent["sentMessages"]
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    bad_key = await client.post(PUSH, json=outbound("line/push_text.request"), headers=auth("line") | {"X-Line-Retry-Key": "1"})
    assert bad_key.status == 400
    await sim.idle()
    assert edge_recorder.posts("line") == []  # LINE sends no receipts for pushes


@pytest.mark.parametrize("request_file", ["push_image.request", "push_sticker.request", "push_link.request"])
async def test_line_accepts_documented_message_objects(simulator, request_file):
    sim, client = simulator
    response = await client.post(PUSH, json=outbound(f"line/{request_file}"), headers=auth("line"))
    assert response.status == 200, await response.text()


async def test_line_validates_messages_like_line(simulator):
    sim, client = simulator
    long = outbound("line/push_text.request") | {"messages": [{"type": "text", "text": "あ" * 5001}]}
    response = await client.post(PUSH, json=long, headers=auth("line"))
    assert response.status == 400 and await response.json() == outbound("line/error_400.response")
    six = outbound("line/push_text.request")
    six["messages"] *= 6
    assert (await client.post(PUSH, json=six, headers=auth("line"))).status == 400
    http = outbound("line/push_image.request")
    http["messages"][0]["previewImageUrl"] = "http://insecure.example/p.jpg"
    assert (await client.post(PUSH, json=http, headers=auth("line"))).status == 400


async def test_line_reply_token_is_single_use_and_expires(simulator):
    sim, client = simulator
    token = (await customer_writes(client, "line", KENJI_LINE))["event"]["replyToken"]
    body = outbound("line/reply_text.request") | {"replyToken": token}
    assert (await client.post(REPLY, json=body, headers=auth("line"))).status == 200
    reused = await client.post(REPLY, json=body, headers=auth("line"))
    assert reused.status == 400 and await reused.json() == outbound("line/error_400_invalid_reply_token.response")
    late = (await customer_writes(client, "line", KENJI_LINE))["event"]["replyToken"]
    await advance(client, 61)
    assert (await client.post(REPLY, json=body | {"replyToken": late}, headers=auth("line"))).status == 400


async def test_x_needs_the_user_token_and_a_customer_who_wrote(simulator):
    sim, client = simulator
    url = X_SEND.format(MARIA["x"])
    unauthorized = await client.post(url, json=outbound("x/text.request"), headers={"Authorization": "Bearer no"})
    assert unauthorized.status == 401
    never_wrote = await client.post(url, json=outbound("x/text.request"), headers=auth("x"))
    assert never_wrote.status == 403 and await never_wrote.json() == outbound("x/error_403.response")
    too_long = await client.post(url, json={"text": "x" * 10_001}, headers=auth("x"))
    assert too_long.status == 400


async def test_x_allows_five_messages_per_inbound_dm_then_429(simulator, edge_recorder):
    sim, client = simulator
    url = X_SEND.format(MARIA["x"])
    await customer_writes(client, "x", MARIA["x"])
    answers = [await client.post(url, json=outbound("x/text.request"), headers=auth("x")) for _ in range(6)]
    assert [a.status for a in answers] == [201] * 5 + [429]
    assert set((await answers[0].json())["data"]) == set(outbound("x/text.response")["data"])
    assert await answers[5].json() == outbound("x/error_429.response") and "x-rate-limit-reset" in answers[5].headers
    await advance(client, 60)
    await customer_writes(client, "x", MARIA["x"])  # a new inbound DM resets the allowance
    assert (await client.post(url, json=outbound("x/text.request"), headers=auth("x"))).status == 201
    await advance(client, 25 * HOUR)
    assert (await client.post(url, json=outbound("x/text.request"), headers=auth("x"))).status == 429
    await sim.idle()
    kinds = [next(iter(set(json.loads(r["body"])) & {"direct_message_events", "direct_message_mark_read_events"}))
             for r in edge_recorder.posts("x")]
    assert kinds.count("direct_message_mark_read_events") == 6


async def test_x_v1_endpoint(simulator):
    sim, client = simulator
    await customer_writes(client, "x", MARIA["x"])
    response = await client.post("/x/1.1/direct_messages/events/new.json", json=outbound("x/text_v1.request"),
                                 headers=auth("x"))
    assert response.status == 200 and (await response.json())["event"]["type"] == "message_create"


async def test_open_integration_checks_our_signature_and_sends_receipts(simulator, edge_recorder):
    sim, client = simulator
    body = outbound_bytes("open/text.request")
    forged = await client.post(OPEN, data=body, headers={"X-Hub-Signature-256": "sha256=AAAA"})
    assert forged.status == 401
    signed = {"X-Hub-Signature-256": "sha256=" + b64_mac("demo-open-outbound-secret", body),
              "Content-Type": "application/json"}
    assert (await client.post(OPEN, data=body, headers=signed)).status == 200
    assert (await client.post(OPEN, data=body, headers=signed)).status == 200  # a retry: accepted, no new receipts
    await sim.idle()
    receipts = edge_recorder.posts("open")
    assert [json.loads(r["body"])["status"] for r in receipts] == ["Delivered", "Read"]
    assert set(json.loads(receipts[0]["body"])) == set(outbound("open/receipt_delivered.request"))
    for r in receipts:
        assert r["headers"]["X-Hub-Signature-256"] == "sha256=" + b64_mac("demo-open-inbound-secret", r["body"])
