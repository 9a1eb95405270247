"""`switchboard deliver` → the edge → the visitor's socket: web is delivered like any platform send."""
from __future__ import annotations

import time

import aiohttp
import pytest
from confluent_kafka import TopicPartition

from connectors.delivery import Delivery
from connectors.ledger import Ledger
from connectors.publisher import Publisher
from connectors.registry import CONNECTORS
from connectors.web import DELIVERIES_PATH, WebConnector
from schemas import plain
from switchboard.accounts import Accounts, WithDeployments
from switchboard.kafka import consumer as make_consumer, producer as make_producer
from tests.connectors.helpers import FIXTURES, read_back

from .conftest import CODEC, call, next_event, token

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]


async def test_an_approved_reply_with_an_image_reaches_the_widget_signed_and_is_recorded_sent(
        site, kafka_bootstrap, new_topic, group_id):
    since = int(time.time() * 1000) - 1000
    socket, tok = await site.connect(), token()
    session = (await call(socket, "configureSession", tok))["body"]
    picture = site.wm.media.store.put((FIXTURES / "media" / "router_error.png").read_bytes(), "image/png")
    thread = f"{site.tenant}:web:{site.deployment}:{session['sessionId']}"
    outbound = {"outbound_id": f"ws-out-{session['sessionId']}", "tenant_id": site.tenant, "conversation_id": "conv-d1",
                "thread_key": thread, "channel": "web", "channel_account_id": site.deployment,
                "recipient_id": session["sessionId"], "agent_id": "ana", "kind": "reply", "created_at": since,
                "content": [{"type": "text", "text": "Here it is:"},
                            {"type": "image", "media_key": picture.key, "mime_type": "image/png"}]}
    approved, config = new_topic(), {"bootstrap.servers": kafka_bootstrap}
    producer = make_producer(config)
    producer.produce(approved, key=thread, value=CODEC.encode("outbound-message", outbound))
    assert producer.flush(10) == 0

    consumer, ledger = make_consumer(config, group_id), Ledger(config, CODEC)
    publisher = Publisher(config, transactional_id=None)
    consumer.assign([TopicPartition(approved, 0)])
    web = WebConnector(str(site.client.make_url(DELIVERIES_PATH)), site.wm.delivery_key())
    try:
        async with aiohttp.ClientSession() as http:
            accounts = WithDeployments(Accounts([]), site.wm.directory)   # as deliver's main builds them
            delivery = Delivery(accounts, consumer, publisher, ledger, http, codec=CODEC,
                                connectors={**CONNECTORS, "web": web})
            deadline = time.monotonic() + 15
            while not delivery.counters["sent"] and time.monotonic() < deadline:
                await delivery.step(batch_size=10, timeout=0.2)
    finally:
        consumer.close()
        ledger.close()
        publisher.close()
    pushed = await next_event(socket, "message")
    assert pushed["body"]["messageId"] == outbound["outbound_id"] and pushed["body"]["text"] == "Here it is:"
    [image] = pushed["body"]["content"]
    assert image["url"].startswith(f"http://edge.test/media/{picture.key}?exp=") and image["mimeType"] == "image/png"
    served = await site.client.get(image["url"].removeprefix("http://edge.test"))
    assert served.status == 200 and served.content_type == "image/png"
    found = read_back(kafka_bootstrap, "delivery-status", since, lambda m: m.key().decode() == thread)
    [sent] = [plain(CODEC.decode(m.value(), "delivery-status")) for m in found]
    assert (sent["status"], sent["outbound_id"], sent["platform_message_ids"]) == (
        "sent", outbound["outbound_id"], [outbound["outbound_id"]])

