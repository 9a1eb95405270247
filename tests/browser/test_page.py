"""The page against a stand-in API: served without a build step, sign-in, text-only rendering,
each pushed event once across a dropped socket (the running-system flow is test_workspace.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.stub_api import StubApi, echo, serve
from tests.kafka_fixture import wait_until

pytestmark = pytest.mark.browser
CONVERSATION = {"conversation_id": "conv-1", "channel": "whatsapp", "customer_name": "Maria Lopez",
                "queue_id": "vip", "state": "connected", "unread": 0, "waiting_since": 1_760_000_000_000}


@pytest.fixture
def stub():
    state = StubApi(conversations=[dict(CONVERSATION)])
    stop = serve(state)
    yield state
    stop.set()


def sign_in(page: Page, stub: StubApi, password: str = "demo-password-alice") -> None:
    page.goto(stub.url + "/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_page_loads_its_modules_from_the_edge_only_and_signs_in(page: Page, stub, shot):
    outside = []
    page.on("request", lambda r: None if r.url.startswith(stub.url) else outside.append(r.url))
    sign_in(page, stub, password="wrong")
    expect(page.get_by_role("alert").first).to_have_text("wrong username or password")
    shot(page, "signin-refused")
    page.get_by_label("Password").fill("demo-password-alice")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#me-name")).to_have_text("Alice Martin (agent)")
    expect(page.get_by_role("button", name=re.compile("Maria Lopez"))).to_be_visible()
    expect(page.locator("#connection")).to_have_text("connected")
    shot(page, "desk")
    call = {"type": "work_started", "conversation_id": "work:call-1", "media": "voice", "channel": "unknown",
            "occurred_at": 1_760_000_001_000}  # another system's call (streams/routing/work.py)
    stub.push(call)
    expect(page.locator("#other-work")).to_contain_text("On a voice call since")
    stub.push(call | {"type": "work_ended", "occurred_at": 1_760_000_061_000})
    expect(page.locator("#other-work")).to_be_hidden()
    assert outside == [], f"the page fetched from elsewhere: {outside}"


def test_a_script_in_a_message_renders_as_text(page: Page, stub, shot):
    sign_in(page, stub)
    expect(page.locator("#connection")).to_have_text("connected")
    evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    stub.push({"type": "message", "conversation_id": "conv-1", "message_id": "m-evil", "direction": "inbound",
               "channel": "whatsapp", "occurred_at": 1_760_000_001_000, "content": [{"type": "text", "text": evil}]})
    message = page.locator("#log [data-message-id='m-evil']")
    expect(message).to_contain_text(evil)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#log script, #log img[src='x']").count() == 0
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")
    shot(page, "script-as-text")


def test_after_a_dropped_socket_every_missed_event_appears_once(page: Page, stub):
    sign_in(page, stub)
    expect(page.locator("#connection")).to_have_text("connected")

    def say(n):
        stub.push({"type": "message", "conversation_id": "conv-1", "message_id": f"m-{n}", "direction": "inbound",
                   "channel": "whatsapp", "occurred_at": 1_760_000_000_000 + n, "content": [{"type": "text", "text": f"message {n}"}]})
    say(1)
    expect(page.locator("#log")).to_contain_text("message 1")
    page.wait_for_function("() => window.switchboard.socket.lastId === '0-0'")
    page.evaluate("window.switchboard.socket.ws.onclose = null; window.switchboard.socket.ws.close()")
    say(2)   # pushed while the page has no socket: only the replay can bring them
    say(3)
    page.evaluate("window.switchboard.socket.retry()")
    expect(page.locator("#log [data-message-id='m-3']")).to_have_count(1)
    for n in (1, 2, 3):
        expect(page.locator(f"#log [data-message-id='m-{n}']")).to_have_count(1)
    assert stub.connects == ["", "0-0"]
    page.wait_for_function("() => window.switchboard.socket.lastId === '0-2'")


def test_switching_conversations_keeps_each_draft(page: Page, stub):
    stub.conversations.append(CONVERSATION | {"conversation_id": "conv-2", "channel": "line", "customer_name": "Kenji Sato"})
    sign_in(page, stub)
    page.get_by_label("Reply").fill("half-written answer to Maria")
    page.get_by_role("button", name=re.compile("Kenji Sato")).click()
    expect(page.locator("#counter")).to_contain_text("LINE limit 5000")
    expect(page.get_by_role("button", name=re.compile("Sticker"))).to_be_visible()
    page.get_by_label("Reply").fill("for Kenji")
    page.keyboard.press("Alt+ArrowUp")
    expect(page.get_by_label("Reply")).to_have_value("half-written answer to Maria")
    expect(page.locator("#counter")).to_contain_text("WhatsApp limit 4096")
    page.keyboard.press("Alt+ArrowDown")
    expect(page.get_by_label("Reply")).to_have_value("for Kenji")


RICH = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "browser" / "rich_messages.json").read_text())


def test_everything_the_customer_sends_is_shown_as_text_and_our_media_urls(page: Page, stub, shot):
    sign_in(page, stub)
    expect(page.locator("#connection")).to_have_text("connected")
    for event in RICH["events"]:
        stub.push(event)
    log = page.locator("#log")
    expect(log.locator("[data-message-id='in-wa-unsend'], [data-message-id='in-wa-oops']")).to_have_count(1)
    first = log.locator("[data-message-id='in-wa-text']")
    expect(first).to_contain_text("My parcel arrived damaged and late")       # the edit replaced the text
    expect(first.locator(".mark")).to_have_text("edited")
    expect(log.locator("[data-message-id='in-wa-edit']")).to_have_count(0)
    expect(log.locator("[data-message-id='in-wa-reply'] blockquote")).to_have_text("My parcel arrived damaged and late")
    expect(log.locator("[data-message-id='in-wa-reply-unknown'] blockquote")).to_have_text("replying to an earlier message")
    expect(log.locator("[data-message-id='in-wa-forward'] .mark")).to_have_text("forwarded")
    expect(log.locator("[data-message-id='in-wa-oops']")).to_contain_text("message removed")
    expect(log.locator("[data-message-id='in-wa-oops']")).not_to_contain_text("wrong chat")
    contact = log.locator("[data-message-id='in-wa-contact']")
    for text in ("Lucía Fernández", "phone: +34 612 345 678 (CELL)", "email: lucia.fernandez@example.com (WORK)"):
        expect(contact).to_contain_text(text)
    order = log.locator("[data-message-id='in-wa-order']")
    expect(order.locator("li")).to_have_count(2)
    expect(order.locator("li").first).to_contain_text("2 × SKU-MUG-RED")
    expect(order.locator(".total")).to_contain_text("45")                     # 2 × 12.50 + 20.00
    location = log.locator("[data-message-id='in-wa-location']")
    expect(location).to_contain_text("Gran Vía 28, 28013 Madrid")
    expect(location.get_by_role("link", name="open the map")).to_have_attribute("href", re.compile(r"^https://www\.openstreetmap\.org/"))
    expect(log.locator("[data-message-id='in-wa-sticker'] img.sticker")).to_have_attribute("src", re.compile(r"/media/5f1c"))
    expect(log.locator("[data-message-id='in-wa-file'] a")).to_have_text("invoice-4471.pdf")
    expect(log.locator("[data-message-id='in-wa-video'] video")).to_have_attribute("src", re.compile(r"/media/b2c3"))
    expect(log.locator("[data-message-id='in-wa-audio'] audio")).to_have_attribute("src", re.compile(r"/media/c3d4"))
    refused = log.locator("[data-message-id='in-ms-image-refused']")
    expect(refused).to_contain_text("image not available: scontent.xx.fbcdn.net is not on the account's media_hosts")
    assert refused.locator("figure img").count() == 0
    # Nothing the page loads or links to is a platform URL, and nothing but http(s) and /media/.
    sources = page.evaluate("[...document.querySelectorAll('#log [src], #log [href]')].map(n => n.src || n.href)")
    assert sources and all(u.startswith(stub.url + "/media/") or u.startswith(stub.url + "/app/")
                           or u.startswith("https://www.openstreetmap.org/") for u in sources), sources
    shot(page, "rich-content")


@pytest.mark.parametrize("echo_first", [False, True], ids=["echo-after-answer", "echo-before-answer"])
def test_the_agents_reply_is_shown_once_with_its_echo(page: Page, stub, echo_first):
    stub.echo_first = echo_first
    sign_in(page, stub)
    expect(page.locator("#connection")).to_have_text("connected")
    page.get_by_label("Reply").fill("On its way 📦")
    page.get_by_label("Reply").press("Control+Enter")
    expect(page.locator("#log .message.out")).to_have_count(1)
    page.wait_for_function("() => window.switchboard.desk.active.log.order.length === 1 && "
                           "!!window.switchboard.desk.active.log.order[0].outboundId")
    outbound_id = f"ws-out-{stub.sent[0]['client_id']}"
    if not echo_first:
        stub.push(echo("conv-1", outbound_id, stub.sent[0]["content"]))
    page.wait_for_function("() => window.switchboard.socket.lastId === '0-0'")
    stub.push({"type": "receipt", "conversation_id": "conv-1", "message_id": outbound_id,
               "status": "delivered", "channel": "whatsapp", "occurred_at": 1_760_000_200_000})
    expect(page.locator("#log .message.out")).to_have_count(1)
    expect(page.locator("#log .message.out .receipt")).to_have_text("✓✓")
    expect(page.locator("#log .message.out")).to_contain_text("On its way 📦")


def test_a_merge_suggestion_is_shown_with_the_customer_and_the_agents_answer_is_sent(page: Page, stub, shot):
    stub.customer = {"customer_id": "cust-w", "customers": ["cust-w"], "names": ["Ana"], "identities": [],
                     "details": [], "flags": [], "suggestions": [{
                         "customer_id": "cust-w", "candidates": ["cust-m"], "thread_key": "acme:whatsapp:1:3460",
                         "detail_type": "email", "detail_value": "ana@example.com", "at": 1_760_000_000_000,
                         "reason": "typed email matches the customer known from messenger: an agent confirms or "
                                   "rejects the merge"}]}
    sign_in(page, stub)
    page.get_by_text("Customer and history").click()   # the only conversation is open already
    suggestion = page.get_by_role("group", name="Merge suggestion")
    expect(suggestion).to_contain_text("email ana@example.com")
    expect(suggestion).to_contain_text("known from messenger")
    shot(page, "merge-suggestion")
    suggestion.get_by_role("button", name="Same customer: merge").click()
    assert wait_until(lambda: stub.answers, 5, "the page's answer") == [{
        "decision": "confirm", "customer_id": "cust-w", "detail_type": "email", "detail_value": "ana@example.com"}]
