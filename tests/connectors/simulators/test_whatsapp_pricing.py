"""The WhatsApp simulator's status webhooks carry per-message pricing as the Cloud API sends it."""
import json

import pytest

from tests.connectors.simulators.helpers import HOUR, MARIA, advance, auth, customer_writes, outbound

pytestmark = pytest.mark.asyncio(loop_scope="session")
WHATSAPP = "/whatsapp/v21.0/109876543210987/messages"


def template(name: str, *parameters: str) -> dict:
    body = outbound("whatsapp/template.request")
    body["template"] |= {"name": name, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]}
    return body


async def delivered_pricing(sim, client, edge_recorder, body: dict) -> dict:
    response = await client.post(WHATSAPP, json=body, headers=auth("whatsapp"))
    wamid = (await response.json())["messages"][0]["id"]
    await sim.idle()
    statuses = [s for r in edge_recorder.posts("whatsapp")
                for s in json.loads(r["body"])["entry"][0]["changes"][0]["value"].get("statuses", []) if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0]["pricing"] == statuses[1]["pricing"] and "pricing" not in statuses[2]
    return statuses[1]["pricing"]


async def test_replies_and_utility_templates_in_the_window_are_free_other_templates_are_charged(simulator, edge_recorder):
    sim, client = simulator
    await customer_writes(client, "whatsapp", MARIA["whatsapp"])
    free = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service"}
    assert await delivered_pricing(sim, client, edge_recorder, outbound("whatsapp/text.request")) == free | {"category": "service"}
    utility = template("card_blocked_followup", "Maria", "4821")
    assert await delivered_pricing(sim, client, edge_recorder, utility) == free | {"category": "utility"}
    charged = {"billable": True, "pricing_model": "PMP", "type": "regular"}
    marketing = template("spring_offer", "Maria")
    assert await delivered_pricing(sim, client, edge_recorder, marketing) == charged | {"category": "marketing"}
    await advance(client, 25 * HOUR)   # the customer service window has closed
    assert await delivered_pricing(sim, client, edge_recorder, utility) == charged | {"category": "utility"}
