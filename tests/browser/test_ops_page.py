"""The ops page (issue 13 §4) in headless Chromium against the running system (tests/system_fixture.py):
a supervisor signs in from the supervisor view's link, a conversation a test customer starts waits on
the vip tile, the Interactions view lists it (and a filter takes it away again), its CSV downloads,
its timeline shows the customer's message as text, and once the agent takes it the tile counts it
interacting; an agent is refused, page and API."""
from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.workspace import PASSWORDS, accept_offer, on_queue, signed_in, wrap_up

pytestmark = [pytest.mark.browser, pytest.mark.kafka]
ZONE = "America/Sao_Paulo"   # not the machine's: the page's time zone must be the browser's


def opened(browser: Browser, system, username: str, path: str) -> Page:
    """A new browser context in ZONE, signed in as `username` on the page at `path`."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=ZONE,
                               accept_downloads=True).new_page()
    page.goto(system.edge_url + path)
    page.get_by_label("Tenant").fill(system.tenant)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    return page


def waiting_on(page: Page, queue: str) -> int:
    """The vip tile's waiting figure."""
    return int(page.get_by_role("listitem", name=f"Queue {queue}", exact=True).locator('[data-figure="Waiting"] dd').inner_text())


def report_rows(page: Page, column: str) -> list[str]:
    """The report table's texts in `column`."""
    return page.locator(f'#report tbody td[data-column="{column}"]').all_inner_texts()


def test_a_supervisor_sees_a_waiting_conversation_reads_filters_and_downloads_the_reports(
        browser: Browser, running_system, shot):
    system, run = running_system, uuid.uuid4().hex[:6]
    sofia = opened(browser, system, "sofia", "/")
    sofia.get_by_role("link", name=re.compile("Ops page")).click()   # the supervisor view's link, same session
    expect(sofia.get_by_role("heading", name="My queues · live")).to_be_visible()
    expect(sofia.get_by_label("Time zone")).to_have_value(ZONE)
    tile = sofia.get_by_role("listitem", name="Queue vip", exact=True)
    expect(tile).to_be_visible(timeout=15_000)
    before = waiting_on(sofia, "vip")

    # Nobody is on the vip queue: the customer's conversation waits there.
    customer = system.customer("whatsapp")
    hostile = f'vip {run} <img src=x onerror="window.pwned = 1"><script>window.pwned = 2</script>'
    system.customer_writes("whatsapp", customer, hostile)
    sofia.wait_for_function(f"""() => Number(document.querySelector('[data-queue="vip"] [data-figure="Waiting"] dd')
                                       ?.textContent) > {before}""", timeout=20_000)
    expect(tile.locator('[data-figure="Longest wait"] dd')).not_to_have_text("—")
    expect(sofia.locator("#chart-waiting canvas")).to_be_visible()
    shot(sofia, "tiles-with-a-waiting-conversation")

    # Interactions on the vip queue: the conversation is a row of today's.
    filters = sofia.get_by_role("form", name="Report filters")
    filters.get_by_label("View").select_option("interactions")
    filters.get_by_label("Queue").select_option("vip")
    conversation = _conversation_of(system, run)
    _shown(sofia, conversation)
    expect(sofia.locator("#report-status")).to_contain_text(ZONE)
    shot(sofia, "interactions-on-vip")

    # Another channel's conversations only: this one is gone from the rows.
    filters.get_by_label("Channel").select_option("messenger")
    filters.get_by_role("button", name="Show").click()
    expect(sofia.locator("#report tbody")).not_to_contain_text(conversation, timeout=10_000)
    assert set(report_rows(sofia, "channel")) <= {"messenger"}
    shot(sofia, "interactions-on-messenger")

    # The CSV of the view as filtered on WhatsApp: the API's format=csv, with this conversation.
    filters.get_by_label("Channel").select_option("whatsapp")
    filters.get_by_role("button", name="Show").click()
    expect(sofia.locator("#report tbody")).to_contain_text(conversation, timeout=10_000)
    with sofia.expect_download() as download:
        filters.get_by_role("link", name="Download CSV").click()
    table = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert download.value.suggested_filename == "interactions.csv"
    assert {"conversation_id", "channel", "started_at"} <= set(table[0])
    mine = [row for row in table if row["conversation_id"] == conversation]
    assert len(mine) == 1 and mine[0]["channel"] == "whatsapp"
    assert all(row["channel"] == "whatsapp" for row in table)

    # Its timeline: the customer's message, shown as text.
    sofia.locator("#report tbody").get_by_role("button", name=conversation).click()
    timeline = sofia.get_by_role("table", name="Interaction timeline")
    expect(timeline).to_contain_text(f"vip {run} <img src=x", timeout=10_000)
    assert sofia.evaluate("window.pwned") is None
    assert sofia.locator("img[src='x'], #interaction-table script").count() == 0
    def audited(found: list[dict]) -> bool:   # the edge recorded the read before it answered
        return any(r["read"] == "conversation_timeline" and r["conversation_id"] == conversation
                   and r["actor_id"] == "sofia" and r["origin"] == "edge" for r in found)
    assert audited(system.read("access-audit", audited))
    shot(sofia, "interaction-timeline")

    # A view per interval gets its chart of offered against answered.
    filters.get_by_label("View").select_option("queue_performance")
    expect(sofia.locator("#report tbody td[data-column='queue_id']").first).to_be_visible(timeout=10_000)
    expect(sofia.locator("#chart-offered canvas")).to_be_visible()
    shot(sofia, "queue-performance-chart")

    # The agent of the queue takes it (and leaves the queue as other tests expect to find it): interacting.
    alice = signed_in(browser, system, "alice")
    on_queue(alice)
    accept_offer(alice, customer["phone"])
    sofia.wait_for_function("""() => Number(document.querySelector('[data-queue="vip"] [data-figure="Interacting"] dd')
                                     ?.textContent) > 0""", timeout=20_000)
    shot(sofia, "tiles-with-an-interaction")
    wrap_up(alice, "resolved")
    with alice.expect_response(lambda r: r.url.endswith("/api/v1/me/presence") and r.status == 202):
        alice.get_by_label("Presence").select_option("offline:off")   # later tests put her on queue again
    alice.context.close()


def _conversation_of(system, tag: str) -> str:
    """The conversation the customer's message tagged `tag` was added to (conversation-events)."""
    def added(records: list[dict]) -> list[dict]:
        return [r for r in records if r.get("type") == "message_added" and tag in (r.get("text") or "")]
    return added(system.read("conversation-events", added, timeout=30))[0]["conversation_id"]


def _shown(page: Page, conversation: str) -> None:
    """Ask again (the Show button) until the report lists `conversation` (the sink writes it within seconds)."""
    for _ in range(40):
        page.get_by_role("form", name="Report filters").get_by_role("button", name="Show").click()
        if conversation in report_rows(page, "conversation_id"):
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the report did not list {conversation} within 20 s")


def test_an_agent_is_refused_the_ops_page_and_the_report_api(browser: Browser, running_system, shot):
    system = running_system
    alice = opened(browser, system, "alice", "/ops")
    expect(alice.get_by_role("heading", name="The ops page is for supervisors")).to_be_visible()
    expect(alice.locator("#refused-text")).to_contain_text("signed in as Alice")
    expect(alice.locator("#ops")).to_be_hidden()
    shot(alice, "agent-refused")
    for path in ("/api/v1/reports", "/api/v1/reports/my_queues_activity", "/api/v1/reports/interactions?format=csv"):
        answer = alice.request.get(system.edge_url + path)
        assert answer.status == 403 and "supervisor" in answer.json()["error"], path
