"""The guest socket against the session broker: sessions, messages in, deliveries out, replay, limits."""
from __future__ import annotations

import json
import time

import jwt
import pytest

from connectors.web import DELIVERIES_PATH, WebConnector
from schemas import plain
from tests.connectors.helpers import FIXTURES, read_back

from .conftest import CODEC, JWT_SECRET, ORIGIN, call, next_event, token

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


def inbound_of(bootstrap: str, since_ms: int, thread_prefix: str) -> list[dict]:
    found = read_back(bootstrap, "inbound-messages", since_ms, lambda m: m.key().decode().startswith(thread_prefix))
    return [plain(CODEC.decode(m.value(), "inbound-message")) for m in found]


async def test_a_token_resumes_its_session_and_start_new_begins_another(site):
    socket, tok = await site.connect(), token()
    first = await call(socket, "configureSession", tok, attributes={"name": "Maria Lopez"})
    assert first["type"] == "response" and first["body"]["resumed"] is False
    body = first["body"]
    assert body["look"]["name"] == "Acme" and body["prechat"] == ["name", "email"] and body["open"] is True
    assert body["allowedMedia"] == {"types": ["image/png", "image/jpeg"], "maxBytes": 200_000}
    again = await call(await site.connect(), "configureSession", tok)
    assert again["body"]["resumed"] and again["body"]["sessionId"] == body["sessionId"]
    fresh = await call(await site.connect(), "configureSession", tok, startNew=True)
    assert not fresh["body"]["resumed"] and fresh["body"]["sessionId"] != body["sessionId"]
    closed = await call(socket, "onMessage", tok, message={"text": "hi"})   # the first socket's session is gone
    assert closed["type"] == "response"   # it still holds its own session until it reconfigures


async def test_a_message_becomes_an_inbound_event_and_a_receipt(site, kafka_bootstrap):
    since = int(time.time() * 1000) - 1000
    socket, tok = await site.connect(), token()
    session = (await call(socket, "configureSession", tok, attributes={"name": "Maria Lopez",
                                                                       "email": "Maria@Example.com ",
                                                                       "entryPoint": "spring-sale",
                                                                       "page": "https://www.acme.example/p"}))["body"]
    sent = await call(socket, "onMessage", tok, message={"text": "Hi 👋", "clientMessageId": "c-1"})
    assert sent["type"] == "response" and sent["body"]["messageId"].startswith("in-")
    receipt = await next_event(socket, "receipt")
    assert receipt["body"] == {"messageId": sent["body"]["messageId"], "status": "delivered"}
    thread = f"{site.tenant}:web:{site.deployment}:{session['sessionId']}"
    [event] = inbound_of(kafka_bootstrap, since, thread)
    assert event["event_id"] == sent["body"]["messageId"] and event["text"] == "Hi 👋"
    assert event["sender"]["external_id"] == session["sessionId"] and event["sender"]["display_name"] == "Maria Lopez"
    assert event["sender"]["email"] == "Maria@Example.com"   # normalized by the conversation processor's claim
    assert event["attributes"] == {"session_id": session["sessionId"], "page": "https://www.acme.example/p",
                                   "referral_ref": "spring-sale", "referral_source": "widget"}
    stored = site.wm.sessions.by_id(site.deployment, session["sessionId"])
    assert stored["last_activity_at"] == sent["body"]["receivedAt"] and stored["entry_point"] == "spring-sale"


async def test_the_third_message_within_one_second_is_rate_limited(site):
    socket, tok = await site.connect(), token()
    await call(socket, "configureSession", tok)
    answers = [await call(socket, "onMessage", tok, message={"text": f"m{i}"}) for i in range(3)]
    assert [a["type"] for a in answers] == ["response", "response", "error"]
    assert answers[2]["code"] == "rate_limited" and 0 < answers[2]["retryAfter"] <= 1
    site.clock.advance(answers[2]["retryAfter"] + 0.01)
    assert (await call(socket, "onMessage", tok, message={"text": "later"}))["type"] == "response"
    typing = [await call(socket, "typing", tok) for _ in range(2)]
    assert [t["body"] for t in typing] == [{}, {"throttled": True}]


async def test_wrong_origin_is_403_and_an_unknown_deployment_404_before_the_upgrade(site):
    wrong = await site.client.get(f"/webmessaging/v1?deploymentId={site.deployment}",
                                  headers={"Origin": "https://evil.example", "Connection": "Upgrade",
                                           "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert wrong.status == 403
    assert (await site.client.get("/webmessaging/v1?deploymentId=nope", headers={"Origin": ORIGIN})).status == 404


async def test_frames_before_configure_or_with_another_token_are_refused(site):
    socket, tok = await site.connect(), token()
    assert (await call(socket, "onMessage", tok, message={"text": "x"}))["code"] == "session_not_configured"
    await call(socket, "configureSession", tok)
    assert (await call(socket, "onMessage", token(), message={"text": "x"}))["code"] == "session_not_configured"
    assert (await call(socket, "launch", tok))["code"] == "bad_request"
    assert (await call(socket, "onMessage", tok, message={"text": "x" * 20001}))["code"] == "message_too_long"


def site_jwt(sub="user-8812", *, lifetime=3600, secret=JWT_SECRET, **claims) -> str:
    now = int(time.time())
    claims = {"sub": sub, "name": "Maria Lopez", "email": "maria@example.com", "iat": now, "exp": now + lifetime,
              "iss": ORIGIN, "aud": "acme-site", **claims}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


async def test_jwts_are_checked_and_a_session_steps_up_but_never_to_another_visitor(site):
    socket, tok = await site.connect(), token()
    for bad in (site_jwt(secret="another-secret-of-the-right-length-xx"), site_jwt(lifetime=-120),
                site_jwt(lifetime=25 * 3600), site_jwt(aud="other-site"), site_jwt(sub="")):
        assert (await call(socket, "configureSession", tok, jwt=bad))["code"] == "invalid_jwt"
    guest = (await call(socket, "configureSession", tok))["body"]
    assert guest["authenticated"] is False
    up = await call(socket, "authenticate", tok, jwt=site_jwt())
    assert up["body"]["authenticated"] and up["body"]["sessionId"] == guest["sessionId"]
    assert (await call(socket, "authenticate", tok, jwt=site_jwt("user-9999")))["code"] == "step_down_refused"
    stored = site.wm.sessions.by_id(site.deployment, guest["sessionId"])
    assert (stored["auth_sub"], stored["email"], stored["authenticated"]) == ("user-8812", "maria@example.com", True)


async def test_a_history_token_reads_only_its_own_session(site):
    mine, theirs = (await call(await site.connect(), "configureSession", token()))["body"], \
        (await call(await site.connect(), "configureSession", token()))["body"]
    own = await site.client.get(mine["historyUrl"].removeprefix("http://edge.test"),
                                headers={"Authorization": f"Bearer {mine['historyToken']}", "Origin": ORIGIN})
    assert own.status == 200 and own.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert (await own.json()) == {"messages": [], "nextBefore": None}
    stolen = await site.client.get(mine["historyUrl"].removeprefix("http://edge.test"),
                                   headers={"Authorization": f"Bearer {theirs['historyToken']}"})
    assert stolen.status == 401
    assert (await site.client.get(mine["historyUrl"].removeprefix("http://edge.test"))).status == 401
    path = mine["historyUrl"].removeprefix("http://edge.test")
    asked = await site.client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert asked.status == 204 and asked.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    elsewhere = await site.client.options(path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


async def deliver(site, session_id: str, outbound_id: str, text: str):
    """What `switchboard deliver` sends for an agent's reply to this session."""
    account = site.wm.account(site.tenant, site.wm.deployment(site.deployment)[1])
    sender = WebConnector("http://edge.test" + DELIVERIES_PATH, site.wm.delivery_key())
    outbound = {"outbound_id": outbound_id, "tenant_id": site.tenant, "conversation_id": "conv-1",
                "thread_key": f"{site.tenant}:web:{site.deployment}:{session_id}", "channel": "web",
                "channel_account_id": site.deployment, "recipient_id": session_id, "agent_id": "ana",
                "kind": "reply", "created_at": int(time.time() * 1000),
                "content": [{"type": "text", "text": text}]}
    [request] = sender.requests_for(account, outbound)
    response = await site.client.post(DELIVERIES_PATH, data=request.body, headers=request.headers)
    return sender.result_of(request, response.status, response.headers, await response.read())


async def test_a_delivery_reaches_the_socket_and_a_reconnect_replays_what_was_missed_once(site):
    tok = token()
    socket = await site.connect()
    session = (await call(socket, "configureSession", tok))["body"]
    assert (await deliver(site, session["sessionId"], "out-1", "Hello from Ana")).ok
    first = await next_event(socket, "message")
    assert first["body"]["messageId"] == "out-1" and first["body"]["text"] == "Hello from Ana"
    assert first["body"]["direction"] == "outbound" and first["id"]
    await socket.close()
    for n in (2, 3):   # while the widget is away
        assert (await deliver(site, session["sessionId"], f"out-{n}", f"message {n}")).ok
    back = await site.connect()
    resumed = await call(back, "configureSession", tok, since=first["id"])
    assert resumed["body"]["resumed"]
    assert (await deliver(site, session["sessionId"], "out-3", "message 3")).ok   # deliver's resend: same id
    assert (await deliver(site, session["sessionId"], "out-4", "message 4")).ok
    seen = [(await next_event(back, "message"))["body"]["messageId"] for _ in range(4)]
    assert seen[:2] == ["out-2", "out-3"] and sorted(seen) == ["out-2", "out-3", "out-3", "out-4"]
    # The resend is a second event with the same messageId: the widget drops it (at-least-once).
    wrong = await deliver(site, "ws-unknown", "out-5", "to nobody")
    assert (wrong.ok, wrong.error_code, wrong.retriable) == (False, "session_unknown", False)


async def test_a_forged_delivery_is_refused(site):
    body = json.dumps({"deploymentId": site.deployment, "sessionId": "x"}).encode()
    response = await site.client.post(DELIVERIES_PATH, data=body, headers={"X-Switchboard-Signature": "sha256=00"})
    assert response.status == 401


MEDIA = FIXTURES / "media"


async def put(site, url: str, data: bytes, content_type: str):
    return await site.client.put(url.removeprefix("http://edge.test"), data=data,
                                 headers={"Content-Type": content_type, "Origin": ORIGIN})


async def test_uploads_are_checked_declared_and_on_the_bytes_then_sent_by_id(site, kafka_bootstrap):
    since = int(time.time() * 1000) - 1000
    socket, tok = await site.connect(), token()
    session = (await call(socket, "configureSession", tok))["body"]
    png = (MEDIA / "router_error.png").read_bytes()
    pdf = await call(socket, "getUploadUrl", tok, fileName="a.pdf", fileType="application/pdf", fileSize=10)
    big = await call(socket, "getUploadUrl", tok, fileName="a.png", fileType="image/png", fileSize=200_001)
    assert (pdf["code"], big["code"]) == ("file_type_not_allowed", "file_too_large")
    site.clock.advance(1)   # two uploads per second at most, like messages
    ticket = (await call(socket, "getUploadUrl", tok, fileName="e.png", fileType="image/png", fileSize=len(png)))["body"]
    lying = (await call(socket, "getUploadUrl", tok, fileName="f.png", fileType="image/png", fileSize=9))["body"]
    assert (await put(site, lying["uploadUrl"], (MEDIA / "receipt.jpg").read_bytes(), "image/png")).status == 415
    assert (await put(site, ticket["uploadUrl"].replace("sig=", "sig=0"), png, "image/png")).status == 403
    stored = await put(site, ticket["uploadUrl"], png, "image/png")
    assert stored.status == 201 and stored.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert (await stored.json()) == {"attachmentId": ticket["attachmentId"], "type": "image/png", "size": len(png)}
    assert (await put(site, ticket["uploadUrl"], png, "image/png")).status == 409   # one use
    site.clock.advance(1)
    other = await site.connect()
    await call(other, "configureSession", (other_token := token()))
    stolen = await call(other, "onMessage", other_token, message={"attachments": [ticket["attachmentId"]]})
    assert stolen["code"] == "attachment_not_found"
    sent = await call(socket, "onMessage", tok, message={"text": "the error", "attachments": [ticket["attachmentId"]]})
    assert sent["type"] == "response"
    [event] = inbound_of(kafka_bootstrap, since, f"{site.tenant}:web:{site.deployment}:{session['sessionId']}")
    [image] = [i for i in event["content"] if i["type"] == "image"]
    assert image["media_key"] and image["mime_type"] == "image/png" and image["size_bytes"] == len(png)
    assert site.wm.media.store.get(image["media_key"])[1] == png


async def test_the_window_and_the_session_lifetime_are_told_to_an_open_socket(site):
    socket, tok = await site.connect(), token()
    await call(socket, "configureSession", tok)
    await call(socket, "onMessage", tok, message={"text": "hello"})
    site.clock.advance(24 * 3600 + 1)   # the deployment's 24 h window
    ended = await next_event(socket, "conversationEnded")
    again = await call(await site.connect(), "configureSession", tok)
    assert again["body"]["readOnly"] and again["body"]["conversationExpiresAt"] == ended["body"]["at"]
    assert (await call(socket, "onMessage", tok, message={"text": "a new conversation"}))["type"] == "response"
    site.clock.advance(720 * 3600)   # the session's 30 days
    await next_event(socket, "sessionExpired")
    assert (await call(socket, "onMessage", tok, message={"text": "x"}))["code"] == "session_expired"
    assert (await call(await site.connect(), "configureSession", tok))["code"] == "session_expired"


async def test_mark_read_is_a_read_status_of_the_agents_message(site, kafka_bootstrap):
    since = int(time.time() * 1000) - 1000
    socket, tok = await site.connect(), token()
    session = (await call(socket, "configureSession", tok))["body"]
    assert (await call(socket, "markRead", tok, messageId="ws-out-77"))["type"] == "response"
    found = read_back(kafka_bootstrap, "delivery-status", since, lambda m: m.key().decode().startswith(site.tenant))
    [status] = [plain(CODEC.decode(m.value(), "delivery-status")) for m in found]
    assert (status["status"], status["outbound_id"], status["platform_message_ids"]) == ("read", "ws-out-77", ["ws-out-77"])
    assert status["thread_key"].endswith(session["sessionId"])


@pytest.fixture
async def closed_site(kafka_bootstrap, directory, web_sessions, tmp_path):
    """A deployment outside its business hours (no day has hours) that requires signed-in visitors."""
    from .conftest import site_of

    async with site_of(kafka_bootstrap, directory, web_sessions, tmp_path, hours={"timezone": "UTC", "weekly": {}},
                       authenticated={"enabled": True, "algorithm": "HS256", "secret": JWT_SECRET,
                                      "required": True}) as found:
        yield found


async def test_outside_hours_the_offline_form_becomes_a_message_and_guests_need_a_jwt(closed_site, kafka_bootstrap):
    site, since = closed_site, int(time.time() * 1000) - 1000
    socket, tok = await site.connect(), token()
    assert (await call(socket, "configureSession", tok))["code"] == "auth_required"
    session = (await call(socket, "configureSession", tok, jwt=site_jwt(iss=None, aud=None)))["body"]
    assert session["open"] is False and session["authenticated"]
    assert (await call(socket, "onMessage", tok, message={"text": "hi"}))["code"] == "closed"
    form = {"name": "Kenji Sato", "email": "kenji.sato@example.jp", "phone": "+81 80 1234 5678",
            "message": "Please call me tomorrow"}
    assert (await call(socket, "submitOfflineForm", tok, form=form))["type"] == "response"
    [event] = inbound_of(kafka_bootstrap, since, f"{site.tenant}:web:{site.deployment}:")
    assert event["attributes"]["offline_form"] == "true" and event["attributes"]["auth_sub"] == "user-8812"
    assert event["text"] == "Please call me tomorrow" and event["sender"]["phone"] == "+81 80 1234 5678"
    # The site vouched for the name and email: the form does not replace them.
    assert (event["sender"]["display_name"], event["sender"]["email"]) == ("Maria Lopez", "maria@example.com")


async def test_the_widget_its_files_and_the_demo_page_are_served(site):
    widget = await site.client.get("/webmessaging/widget.js")
    assert widget.status == 200 and widget.content_type == "application/javascript"
    assert widget.headers["Cache-Control"] == "public, max-age=300" and b"Switchboard" in await widget.read()
    demo = await site.client.get("/demo/")
    assert demo.status == 200 and demo.content_type == "text/html" and b"widget.js" in await demo.read()
    sticker = await site.client.get("/webmessaging/static/stickers/thanks.svg")
    assert sticker.status == 200 and sticker.content_type == "image/svg+xml"
