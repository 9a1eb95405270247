"""Through the real broker and ClickHouse: the image a WhatsApp customer sent in an earlier conversation
comes back in the agent's history as our signed /media/ URL (fetched from the simulated Graph API by
its media id on demand), which serves the bytes; the customer's name comes with it."""
from __future__ import annotations

import time

import pytest

from connectors.registry import connector
from connectors.simulators.media import FILES
from tests.connectors.simulators.helpers import MARIA
from tests.connectors.simulators.media_world import media_world  # noqa: F401 (fixture)
from tests.sink.scenario import store_directly

from .conftest import media_edge_client, produce_events
from .test_api import booked, sign_in

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]
SAMPLES = {p.read_bytes() for p in FILES.iterdir()}


@pytest.fixture
async def history_edge(kafka_bootstrap, directory, clickhouse_store, media_world, tmp_path):  # noqa: F811
    """An edge with the workspace reading the facts and a media store that reaches the simulated platforms."""
    async with media_edge_client(kafka_bootstrap, directory, media_world, tmp_path, clickhouse=lambda: clickhouse_store) as client:
        yield client, media_world


def earlier_conversation(tenant: str, inbound: dict, customer: str) -> list[dict]:
    """The facts of the customer's earlier WhatsApp conversation: who they are, the image, its conversation."""
    thread = inbound["thread_key"]
    at = inbound["occurred_at"]
    return [
        {"topic": "identity-events", "record": {
            "event_id": f"ie-{customer}", "tenant_id": tenant, "type": "created", "customer_id": customer,
            "thread_key": thread, "channel": "whatsapp", "external_id": inbound["sender"]["external_id"],
            "display_name": inbound["sender"]["display_name"], "reason": "first contact on whatsapp",
            "occurred_at": at}},
        {"topic": "inbound-messages", "record": inbound},
        {"topic": "conversation-events", "record": {
            "event_id": "ce-old-1", "tenant_id": tenant, "conversation_id": "c-old", "thread_key": thread,
            "customer_id": customer, "channel": "whatsapp", "channel_account_id": inbound["channel_account_id"],
            "type": "started", "sequence": 1, "occurred_at": at, "direction": "inbound",
            "message_id": inbound["event_id"], "text": inbound["text"], "content": inbound["content"]}}]


async def test_an_earlier_conversations_image_is_in_the_history_with_a_media_url_that_serves_it(
        history_edge, tenant_data, clickhouse_store, kafka_bootstrap):
    client, world = history_edge
    tenant = tenant_data["tenant"]
    account = world.account("whatsapp")
    body = await world.customer_sends("whatsapp", MARIA["whatsapp"], "image")   # to the recorder: nobody prefetched
    [parsed] = connector("whatsapp").parse(account, body, int(time.time() * 1000) - 86_400_000).messages
    inbound = parsed | {"tenant_id": tenant, "thread_key": f"{tenant}:whatsapp:{account.account_id}:{MARIA['whatsapp']}"}
    store_directly(clickhouse_store, earlier_conversation(tenant, inbound, "cust-maria"))
    offer = {**tenant_data["events"][0], "customer_id": "cust-maria", "conversation_id": "c-new", "offer_id": "o-new",
             "event_id": "ae:ana:offered:o-new"}
    produce_events(kafka_bootstrap, [offer])
    ana = await sign_in(client, tenant, "ana", "demo-ana")
    await booked(client, ana, "c-new", "offered")

    response = await client.get("/api/v1/conversations/c-new/history", headers=ana)
    assert response.status == 200, await response.text()
    page = await response.json()
    [row] = page["messages"]
    assert (row["message_id"], row["conversation_id"], row["channel"]) == (inbound["event_id"], "c-old", "whatsapp")
    [image] = [i for i in row["content"] if i["type"] == "image"]
    sent = next(i for i in inbound["content"] if i["type"] == "image")
    assert image["media_id"] == sent["media_id"] and "media_error" not in image
    assert image["url"].startswith(f"/media/{image['media_key']}?exp=")
    served = await client.get(image["url"])
    assert served.status == 200 and served.content_type == sent["mime_type"]
    assert await served.read() in SAMPLES
    assert (await client.get(image["url"].replace("sig=", "sig=0"))).status in (401, 403)   # signed, not guessable
    assert page["customer"]["names"] == [inbound["sender"]["display_name"]] and row["sender_name"] == page["customer"]["name"]
