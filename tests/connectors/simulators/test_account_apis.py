"""The platforms' account side: WhatsApp's template API and template checks, the template-status and
quality webhooks its control calls send, pricing by the rules in effect, LINE's message quota."""
import json
from datetime import datetime, timezone

import pytest

from connectors.registry import CONNECTORS
from switchboard.pricing import prices
from tests.connectors.simulators.helpers import HOUR, MARIA, advance, auth, customer_writes, outbound

pytestmark = pytest.mark.asyncio(loop_scope="session")
WABA, NUMBER = "102290129340398", "109876543210987"
TEMPLATES, SEND = f"/whatsapp/v21.0/{WABA}/message_templates", f"/whatsapp/v21.0/{NUMBER}/messages"
PUSH, REPLY = "/line/v2/bot/message/push", "/line/v2/bot/message/reply"
QUOTA, CONSUMPTION = "/line/v2/bot/message/quota", "/line/v2/bot/message/quota/consumption"
OCT_2026 = 1_790_812_800 - 1_760_000_000   # seconds from the fixture's clock to 2026-10-01T00:00:00Z
OCT_2026_MS = 1_790_812_800_000


def template(name: str, *parameters: str, language: str = "en_US") -> dict:
    body = outbound("whatsapp/template.request")
    body["template"] = {"name": name, "language": {"code": language}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]}
    return body


async def all_templates(client, limit: int) -> tuple[list[dict], int]:
    """Every template, following paging.next as a Graph client does; (templates, pages)."""
    url, found, pages = f"{TEMPLATES}?limit={limit}", [], 0
    while url:
        response = await client.get(url, headers=auth("whatsapp"))
        assert response.status == 200, await response.text()
        page = await response.json()
        found, pages = found + page["data"], pages + 1
        url = page["paging"].get("next", "").removeprefix(str(client.make_url("")))
    return found, pages


async def test_the_template_api_serves_each_wabas_catalogue_in_pages(simulator):
    sim, client = simulator
    found, pages = await all_templates(client, limit=5)
    assert pages == 5 and len(found) == len({t["id"] for t in found}) == 21
    assert found == (await all_templates(client, limit=100))[0]
    spec = {(t["name"], t["language"]): t for t in found}
    assert {k for k in spec[("order_update", "en_US")]} == {"name", "parameter_format", "components", "language",
                                                           "status", "category", "id"}
    assert [c["type"] for c in spec[("appointment_reminder", "en_US")]["components"]] == ["HEADER", "BODY"]
    assert (spec[("winter_sale", "en_US")]["status"], spec[("login_code", "en_US")]["category"]) == ("PAUSED", "AUTHENTICATION")
    other = await client.get(TEMPLATES.replace(WABA, "999"), headers=auth("whatsapp"))
    assert other.status == 400 and (await other.json())["error"]["error_subcode"] == 33
    assert (await client.get(TEMPLATES, headers={"Authorization": "Bearer nope"})).status == 401


@pytest.mark.parametrize("body,code", [
    (template("no_such_template", "Maria"), 132001),
    (template("order_update", "Maria", language="it"), 132001),          # no translation
    (template("abandoned_cart", "Maria", "!", language="es_ES"), 132001),  # rejected: not sendable
    (template("appointment_reminder", "Maria", "14 March"), 132000),      # 2 of 3 parameters
    (template("winter_sale", "Maria"), 132015),                           # paused
])
async def test_template_sends_are_checked_like_the_cloud_api(simulator, edge_recorder, body, code):
    sim, client = simulator
    response = await client.post(SEND, json=body, headers=auth("whatsapp"))
    assert response.status == 400 and (await response.json())["error"]["code"] == code
    await sim.idle()
    assert edge_recorder.posts("whatsapp") == []  # refused: no status webhooks


async def test_a_template_status_change_sends_its_signed_webhook_and_takes_effect(simulator, edge_recorder):
    sim, client = simulator
    assert (await client.post(SEND, json=template("spring_offer", "Maria"), headers=auth("whatsapp"))).status == 200
    await sim.idle()
    edge_recorder.requests.clear()
    changed = await client.post("/_sim/whatsapp/templates", json={"name": "spring_offer", "status": "PAUSED"})
    assert changed.status == 200 and (await changed.json())["status"] == 200
    [hook] = edge_recorder.posts("whatsapp")
    refused = await client.post(SEND, json=template("spring_offer", "Maria"), headers=auth("whatsapp"))
    assert (await refused.json())["error"]["code"] == 132015
    listed = {(t["name"], t["language"]): t["status"] for t in (await all_templates(client, 100))[0]}
    assert listed[("spring_offer", "en_US")] == "PAUSED"
    [event] = parsed(sim, hook).account_events   # what the edge makes of it
    assert (event["kind"], event["waba_id"], event["raw_event"]) == ("template_status", WABA, "message_template_status_update")
    assert [(t["name"], t["language"], t["category"], t["status"]) for t in event["templates"]] == [
        ("spring_offer", "en_US", "marketing", "PAUSED")]
    assert event["attributes"]["other_info.title"] == "FIRST_PAUSE"
    missing = await client.post("/_sim/whatsapp/templates", json={"name": "nope", "status": "PAUSED"})
    assert missing.status == 404


async def test_a_quality_change_sends_phone_number_quality_update(simulator, edge_recorder):
    sim, client = simulator
    up = await client.post("/_sim/whatsapp/quality", json={"tier": "TIER_2K"})
    assert (await up.json())["status"] == 200   # from the account's TIER_250 (the default)
    down = await client.post("/_sim/whatsapp/quality", json={"tier": "TIER_250"})
    flagged = await client.post("/_sim/whatsapp/quality", json={"quality_rating": "RED"})
    values = [(await r.json())["payload"]["entry"][0]["changes"][0]["value"] for r in (up, down, flagged)]
    assert [(v["event"], v.get("old_limit"), v["max_daily_conversations_per_business"]) for v in values] == [
        ("UPGRADE", "TIER_250", "TIER_2K"), ("DOWNGRADE", "TIER_2K", "TIER_250"), ("FLAGGED", None, "TIER_250")]
    events = [e for hook in edge_recorder.posts("whatsapp") for e in parsed(sim, hook).account_events]
    assert [(e["kind"], e["messaging_limit_tier"], e["quality_rating"]) for e in events] == [
        ("quality_update", "TIER_2K", None), ("quality_update", "TIER_250", None), ("quality_update", "TIER_250", "RED")]


def parsed(sim, hook: dict):
    """A recorded webhook through the WhatsApp connector, after its signature checks out."""
    account = sim.account("whatsapp", hook["account"])
    assert CONNECTORS["whatsapp"].verify(account, hook["headers"], hook["body"])
    return CONNECTORS["whatsapp"].parse(account, hook["body"], 0)


async def statuses_pricing(sim, client, edge_recorder, body: dict) -> dict:
    response = await client.post(SEND, json=body, headers=auth("whatsapp"))
    wamid = (await response.json())["messages"][0]["id"]
    await sim.idle()
    return [s for r in edge_recorder.posts("whatsapp") for s in json.loads(r["body"])["entry"][0]["changes"][0]["value"]
            .get("statuses", []) if s["id"] == wamid and s["status"] == "delivered"][0]["pricing"]


async def test_service_and_utility_in_the_window_are_billed_as_the_price_tables_rule_says(simulator, edge_recorder):
    sim, client = simulator
    free = {"billable": False, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}
    charged = {"billable": True, "pricing_model": "PMP", "type": "regular"}
    text, utility = outbound("whatsapp/text.request"), template("order_update", "A-1042")
    await advance(client, OCT_2026 - 48 * HOUR)   # September 2026: replies and in-window utility free
    await customer_writes(client, "whatsapp", MARIA["whatsapp"])
    assert await statuses_pricing(sim, client, edge_recorder, text) == free
    assert await statuses_pricing(sim, client, edge_recorder, utility) == free | {"category": "utility"}
    await advance(client, 50 * HOUR)               # 2 October: both billed (no free allowance in the rule)
    await customer_writes(client, "whatsapp", MARIA["whatsapp"])
    assert prices().rule_at(datetime(2026, 10, 2, tzinfo=timezone.utc)).service_free_per_month == 0
    assert await statuses_pricing(sim, client, edge_recorder, text) == charged | {"category": "service"}
    assert await statuses_pricing(sim, client, edge_recorder, utility) == charged | {"category": "utility"}


async def test_a_free_allowance_in_the_rule_makes_a_months_first_service_messages_free(monkeypatch):
    from connectors.simulators import whatsapp_rules
    from switchboard.pricing import PriceTable

    table = prices()
    rules = [r.model_copy(update={"service_free_per_month": 2}) if r.service != "free" else r for r in table.rules]
    monkeypatch.setattr(whatsapp_rules, "prices", lambda: PriceTable.model_validate(table.model_dump() | {"rules": rules}))
    october = OCT_2026_MS + 3_600_000
    assert [whatsapp_rules.pricing("service", True, october, n)["billable"] for n in (1, 2, 3)] == [False, False, True]


async def test_line_quota_counts_pushes_not_replies_and_refuses_beyond_it(simulator):
    sim, client = simulator
    assert await (await client.get(QUOTA, headers=auth("line"))).json() == {"type": "limited", "value": 5000}
    set_to = await client.post("/_sim/line/quota", json={"limit": 2})
    assert await set_to.json() == {"limit": 2, "used": 0}
    push = outbound("line/push_text.request")
    assert [(await client.post(PUSH, json=push, headers=auth("line"))).status for _ in range(2)] == [200, 200]
    written = await customer_writes(client, "line", MARIA["line"])
    reply = {"replyToken": written["event"]["replyToken"], "messages": push["messages"]}
    assert (await client.post(REPLY, json=reply, headers=auth("line"))).status == 200   # free: not counted
    beyond = await client.post(PUSH, json=push, headers=auth("line"))
    assert beyond.status == 429 and await beyond.json() == {"message": "You have reached your monthly limit."}
    assert await (await client.get(CONSUMPTION, headers=auth("line"))).json() == {"totalUsage": 2}
    await client.post("/_sim/line/quota", json={"limit": None})
    assert await (await client.get(QUOTA, headers=auth("line"))).json() == {"type": "none"}
    assert (await client.post(PUSH, json=push, headers=auth("line"))).status == 200
    assert (await client.get(QUOTA, headers={"Authorization": "Bearer nope"})).status == 401
