"""Steps an agent takes on the page, shared by the running-system browser tests."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

PASSWORDS = {"alice": "demo-password-alice", "bob": "demo-password-bob", "sofia": "demo-password-sofia"}


def signed_in(browser: Browser, system, username: str) -> Page:
    """A new browser context signed in as `username` of the demo tenant, its desk shown."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(system.edge_url + "/")
    page.get_by_label("Tenant").fill(system.tenant)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#me-name")).to_contain_text("(")
    expect(page.locator("#connection")).to_have_text("connected", timeout=15_000)
    return page


def on_queue(page: Page) -> None:
    """Presence: available and on queue."""
    page.get_by_label("Presence").select_option("available:on")


def accept_offer(page: Page, customer_name: str, timeout: float = 30_000) -> None:
    """Wait for the offer toast from `customer_name` and accept it; the conversation becomes active."""
    toast = page.get_by_role("alertdialog", name=re.compile(re.escape(customer_name)))
    expect(toast).to_be_visible(timeout=timeout)
    expect(toast.locator(".countdown")).to_have_text(re.compile(r"\d+s"))
    toast.get_by_role("button", name="Accept").click()
    conversation = page.locator(".conv-item", has_text=customer_name)
    expect(conversation).to_contain_text("connected", timeout=timeout)
    conversation.click()
    expect(page.locator("#active-title")).to_contain_text(customer_name)


def active_conversation_id(page: Page) -> str:
    """The id of the conversation shown."""
    return page.evaluate("window.switchboard.desk.active.id")


def wrap_up(page: Page, code: str) -> None:
    """End the active conversation and wrap it up with `code`."""
    page.get_by_role("button", name="End", exact=True).click()
    dialog = page.locator("#wrapup-dialog")
    # wrapup_required arrives on the socket once routing has ended the conversation; it opens the dialog.
    expect(page.locator(".conversation-list li.active .conv-state")).to_have_text(re.compile("wrapup|ended"), timeout=20_000)
    if not dialog.is_visible():
        page.get_by_role("button", name="Wrap up").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Code").select_option(code)
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()


def publish_policy_views(system, views: list[dict]) -> None:
    """policy-views records (policy-view v1) as the policy stages write them, keyed `<kind>:<key>`."""
    from confluent_kafka import Producer

    from schemas import Codec, topic

    producer, codec = Producer({"bootstrap.servers": system.bootstrap, "partitioner": "murmur2_random"}), Codec()
    for view in views:
        producer.produce(topic("policy-views").name, key=f"{view['kind']}:{view['key']}".encode(),
                         value=codec.encode("policy-view", view))
    assert producer.flush(15) == 0
