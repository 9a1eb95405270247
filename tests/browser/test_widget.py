"""Issue 11's browser "Done when" for the web messaging widget, in headless Chromium against the
running system (tests/system_fixture.py), an agent answering through the agent API: a visitor known
from Messenger fills the demo page's pre-chat form, sends text + emoji + an image and gets the
answer; after a reload the history is there and the conversation continues; after a short threading
window a new conversation starts; a visitor from an entry-point link, whose socket drops, sees what
the agent sent meanwhile, once each; outside business hours the offline form becomes a message."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.widget import Agent, create_deployment, embedding, image_loaded, open_chat, ready, session_id, write
from tests.kafka_fixture import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.kafka]
IMAGE = Path(__file__).resolve().parents[1] / "fixtures" / "browser" / "reply-image.png"
DEMO = "acme-website"   # the demo deployment `switchboard admin seed` publishes (deploy/people.yaml)


@pytest.fixture
def alice(browser: Browser, running_system):
    """The demo agent on queue through the agent API; her conversations wrapped up after the test."""
    agent = Agent(browser, running_system, "alice")
    yield agent
    agent.done()


def test_a_visitor_known_from_messenger_chats_reloads_and_continues(page, running_system, alice, shot):
    system, run = running_system, uuid.uuid4().hex[:6]
    # Not on WhatsApp: test_workspace.py's returning customer (Messenger and WhatsApp) stays free.
    maria = system.customer("messenger", without=("whatsapp",))
    email = f"web.{run}@example.com"
    # Messenger first: the agent learns the customer's email there.
    system.customer_writes("messenger", maria, "vip: a question about my savings pot")
    on_messenger = alice.accept(maria["psid"])
    alice.note_email(on_messenger, email)

    # The edge refuses the first read receipt of each message (through the test): the widget sends it again.
    refused_reads = set()

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            if frame.get("action") == "markRead" and frame["messageId"] not in refused_reads:
                refused_reads.add(frame["messageId"])
                ws.send(json.dumps({"type": "error", "tracingId": frame["tracingId"], "code": "unavailable",
                                    "message": "try again"}))
            else:
                server.send(message)
        ws.on_message(from_page)
    page.route_web_socket(re.compile(r"/webmessaging/v1"), route)

    # The demo page: the pre-chat form, then text + an emoji from the picker + an image with progress.
    ready(page, f"{system.edge_url}/demo/")
    page.evaluate("() => { window.shown = []; Switchboard('on', 'message', (m) => window.shown.push(m)); }")
    log = open_chat(page)
    prechat = page.get_by_role("form", name="Before we start")
    prechat.get_by_label("Name").fill(maria["name"])
    prechat.get_by_label("Email").fill(email)
    prechat.get_by_role("button", name="Start chat").click()
    assert log.get_attribute("aria-live") == "polite"
    write(page, "vip: is my new card on its way? ", emoji="👋", files=[IMAGE])
    mine = log.locator(".message.inbound", has_text="is my new card on its way? 👋")
    expect(mine.locator("img")).to_be_visible()
    expect(mine).to_contain_text("delivered", timeout=20_000)
    shot(page, "visitor-wrote")

    conversation = alice.accept(session_id(page))
    alice.typing(conversation)
    expect(page.get_by_text("Alice Martin is typing…")).to_be_visible(timeout=20_000)
    alice.reply(conversation, "Yes, it left today: here is the tracking slip", image=IMAGE)
    answer = log.locator(".message.outbound", has_text="here is the tracking slip")
    expect(answer).to_have_count(1, timeout=20_000)
    expect(answer.locator("img")).to_be_visible()
    image_loaded(page, answer.locator("img"))
    assert any("tracking slip" in m["text"] for m in page.evaluate("window.shown"))
    wait_until(lambda: refused_reads, 20, "the widget's first read receipt")
    alice.reply(conversation, "Anything else?", sticker="thumbs-up")
    sticker = log.locator(".message.outbound", has_text="Anything else?").locator("img.sticker")
    expect(sticker).to_be_visible(timeout=20_000)
    # Shown again with the next message, the refused read is sent again, and reaches the agent.
    wait_until(lambda: alice.receipt(conversation, "tracking slip") == "read", 20, "the visitor's read receipt")
    image_loaded(page, sticker)
    assert sticker.evaluate("img => new URL(img.src).pathname") == "/webmessaging/static/stickers/thumbs-up.svg"
    shot(page, "agent-answered")

    # The same customer: the agent's history of the web conversation holds the Messenger one too.
    history = wait_until(lambda: (rows := alice.history(conversation)) and
                         {"messenger", "web"} <= {m.get("channel") for m in rows} and rows, 45,
                         "the web visitor merged with the Messenger customer")
    written = next(m for m in history if "is my new card on its way? 👋" in (m.get("text") or ""))
    assert written["channel"] == "web" and "image" in [item["type"] for item in written["content"]]

    # Back on the page later: the history is shown, no form again, and the conversation goes on.
    page.reload()
    ready(page, page.url)
    log = open_chat(page)
    expect(log.locator(".message", has_text="here is the tracking slip")).to_have_count(1)
    expect(log.locator(".message", has_text="is my new card on its way?")).to_have_count(1)
    expect(page.get_by_role("form", name="Before we start")).to_be_hidden()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    for _ in range(8):   # the open panel keeps the focus
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.shadowRoot?.activeElement?.closest('[role=dialog]') != null")
    write(page, "Thanks! One more vip question: the PIN?")
    alice.pushed(conversation, "One more vip question")   # the same conversation
    shot(page, "after-reload")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("^Open chat"))).to_be_focused()
    for done in (on_messenger, conversation):   # wrapped up: Alice's capacity is free for the next tests
        alice.finish(done)


def test_after_the_threading_window_the_next_message_starts_a_new_conversation(page, running_system, alice, shot):
    system, deployment = running_system, f"short-window-{uuid.uuid4().hex[:6]}"
    # 0.003 h = 10.8 s: there is no clock to drive in the running system, so the window is short.
    create_deployment(system, deployment, "--window-hours", "0.003", "--no-prechat")
    log = open_chat(ready(page, embedding(system, deployment)))
    write(page, "vip: first question")
    expect(log.locator(".message.inbound", has_text="first question")).to_contain_text("delivered", timeout=20_000)
    page.reload()   # the session's answer now says when the window ends: less than 5 minutes away
    log = open_chat(ready(page, page.url))
    expect(page.get_by_role("status").filter(has_text="This conversation closes at")).to_be_visible()
    expect(log.locator(".message", has_text="first question")).to_have_count(1)
    first = alice.accept(session_id(page))

    start_new = page.get_by_role("button", name="Start new conversation")
    expect(start_new).to_be_visible(timeout=30_000)            # conversationEnded: read-only until then
    expect(page.get_by_label("Message", exact=True)).to_be_disabled()
    shot(page, "read-only")
    start_new.click()
    write(page, "vip: a question a while later")
    second = alice.accept(session_id(page))   # offered anew: the thread's next conversation
    assert second != first
    # Wrapped up only now, as an agent would: what the desk asks her to (an assignment moves no window).
    for done in (first, second):
        alice.finish(done)


def test_a_visitor_from_an_entry_point_link_loses_the_socket_and_sees_each_missed_message_once(page, running_system, alice, shot):
    system = running_system
    # Every guest socket goes through the test (to the real edge), so it can drop one and refuse the
    # widget's reconnects for a while — its backoff keeps trying.
    sockets, refused, away = [], [], {"now": False}

    def route(ws):
        if away["now"]:
            refused.append(ws)
            ws.close(code=1011)
        else:
            ws.connect_to_server()
            sockets.append(ws)
    page.route_web_socket(re.compile(r"/webmessaging/v1"), route)
    # A help-centre link (entry point `site-help`, deploy/people.yaml) opens the widget by itself.
    ready(page, f"{system.edge_url}/demo/?switchboard_entry=site-help")
    expect(page.get_by_role("dialog", name="Acme Bank")).to_be_visible()
    log = page.get_by_role("log", name="Conversation")
    page.get_by_role("button", name="Start chat").click()
    write(page, "vip: could you send me the forms?")
    sid = session_id(page)
    conversation = alice.accept(sid)
    inbound = system.read("inbound-messages", lambda rs: any(r["sender"]["external_id"] == sid for r in rs))
    assert [r["attributes"].get("referral_ref") for r in inbound if r["sender"]["external_id"] == sid] == ["site-help"]
    alice.reply(conversation, "Sure, the first one is coming")
    expect(log.locator(".message.outbound", has_text="the first one")).to_have_count(1, timeout=20_000)

    away["now"] = True
    sockets[-1].close(code=1006)
    expect(page.get_by_role("status").filter(has_text="reconnecting")).to_be_visible()
    sent = ["Form A: account opening", "Form B: change of address"]
    for text in sent:
        alice.reply(conversation, text)
    system.read("webmessaging-events", lambda rs: sum(r.get("session_id") == sid and r.get("type") == "message"
                                                      for r in rs) >= 3, timeout=30)
    # (Playwright calls `route` while the test waits in Playwright, not in a sleep of its own.)
    page.wait_for_function("Switchboard.widget.connection.attempt >= 2")   # a reconnect was refused
    assert refused
    away["now"] = False
    for text in ["the first one", *sent]:
        expect(log.locator(".message", has_text=text)).to_have_count(1, timeout=20_000)
    expect(page.get_by_role("status").filter(has_text="online")).to_be_visible()
    shot(page, "replayed-after-reconnect")
    alice.finish(conversation)


def test_outside_business_hours_the_offline_form_becomes_a_message(page, running_system, tmp_path):
    system, deployment = running_system, f"closed-{uuid.uuid4().hex[:6]}"
    hours = tmp_path / "hours.yaml"
    hours.write_text("timezone: Europe/Madrid\nweekly: {}\n")   # no opening hours on any day
    create_deployment(system, deployment, "--no-prechat", "--hours-file", str(hours))
    open_chat(ready(page, embedding(system, deployment)))
    form = page.get_by_role("form", name="We are away: leave your details")
    form.get_by_label("Name").fill("Ines Duarte")
    form.get_by_label("Email").fill("ines.duarte@example.com")
    form.get_by_label("Your question").fill("Please call me back about a mortgage")
    form.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").filter(has_text="we will answer as soon as we are back")).to_be_visible()
    sid = session_id(page)
    [message] = [r for r in system.read("inbound-messages", lambda rs: any(r["sender"]["external_id"] == sid for r in rs))
                 if r["sender"]["external_id"] == sid]
    assert message["text"] == "Please call me back about a mortgage" and message["attributes"]["offline_form"] == "true"
    assert (message["sender"]["display_name"], message["sender"]["email"]) == ("Ines Duarte", "ines.duarte@example.com")
