"""The page against a stand-in API: served without a build step, sign-in, text-only rendering,
each pushed event once across a dropped socket (the running-system flow is test_workspace.py)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.stub_api import StubApi, serve

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
