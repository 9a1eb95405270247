"""Through the real broker: a WhatsApp customer's image reaches the agent's socket as our signed
/media/ URL (fetched from the platform with the account's token on demand), which serves the bytes."""
from __future__ import annotations

import json

import pytest

from connectors.simulators.media import FILES
from tests.connectors.simulators.helpers import MARIA
from tests.connectors.simulators.media_world import media_world  # noqa: F401 (fixture)

from .conftest import media_edge_client, produce_events
from .test_api import sign_in

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
SAMPLES = {p.read_bytes() for p in FILES.iterdir()}


@pytest.fixture
async def media_edge(kafka_bootstrap, directory, media_world, tmp_path):  # noqa: F811
    """An edge with the workspace and a media store whose fetcher reaches the simulated platforms."""
    async with media_edge_client(kafka_bootstrap, directory, media_world, tmp_path) as client:
        yield client, media_world


async def test_an_inbound_whatsapp_image_is_pushed_with_a_media_url_that_serves_it(media_edge, tenant_data,
                                                                                  kafka_bootstrap):
    client, world = media_edge
    webhook = json.loads(await world.customer_sends("whatsapp", MARIA["whatsapp"], "image"))
    value = webhook["entry"][0]["changes"][0]["value"]
    image = value["messages"][0]["image"]            # WhatsApp sends an id, never the bytes or a URL
    account = value["metadata"]["phone_number_id"]
    tenant, [offered, assigned] = tenant_data["tenant"], tenant_data["events"][:2]
    where = {"channel_account_id": account, "thread_key": f"{tenant}:whatsapp:{account}:{MARIA['whatsapp']}"}
    message = {**assigned, **where, "event_id": "ae:ana:message:in-wa-image", "type": "message",
               "message_id": "in-wa-image", "direction": "inbound", "text": None,
               "content": [{"type": "image", "media_id": image["id"], "mime_type": image["mime_type"]}]}
    headers = await sign_in(client, tenant, "ana", "demo-ana")
    async with client.ws_connect("/api/v1/ws", headers=headers) as ws:
        produce_events(kafka_bootstrap, [offered | where, assigned | where, message])
        pushed = await next_message(ws)
    [item] = pushed["content"]
    assert item["url"].startswith("/media/") and item["media_id"] == image["id"] and "media_error" not in item
    served = await client.get(item["url"])
    assert served.status == 200 and served.content_type == image["mime_type"]
    assert await served.read() in SAMPLES
    again = await client.get(f"/api/v1/conversations/{assigned['conversation_id']}/messages", headers=headers)
    [kept] = (await again.json())["messages"]
    assert kept["message_id"] == "in-wa-image" and kept["content"][0]["url"].startswith(f"/media/{item['media_key']}?")


async def next_message(ws) -> dict:
    while True:
        event = await ws.receive_json(timeout=30)
        if event.get("type") == "message":
            return event
