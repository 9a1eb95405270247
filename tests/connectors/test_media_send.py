"""Outbound images from the store, in each channel's form, as the simulated platform received them:
Messenger and LINE by public signed URL, WhatsApp and X uploaded first and sent by media id."""
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from connectors.base import Refused
from connectors.delivery import Delivery
from connectors.media.outbound import OutboundMedia, UploadFailed
from connectors.media.signing import Signer
from connectors.registry import connector
from connectors.sending import RetryPolicy, send
from tests.connectors.helpers import FIXTURES
from tests.connectors.simulators.helpers import MARIA
from tests.connectors.simulators.media_world import media_world  # noqa: F401 (fixture)

ASYNC = pytest.mark.asyncio(loop_scope="session")
PUBLIC = "https://edge.acme.example"
SIGNER = Signer(b"test-auth-secret")
CAPTION = "This is where the reset button is"


def outbound(world, channel: str, key: str) -> dict:
    account = world.account(channel)
    return {"outbound_id": f"out-{channel}-image", "tenant_id": "acme", "channel": channel,
            "channel_account_id": account.account_id, "recipient_id": MARIA[channel],
            "thread_key": f"acme:{channel}:{account.account_id}:{MARIA[channel]}", "kind": "reply",
            "content": [{"type": "image", "media_key": key, "text": CAPTION}]}


async def deliver(world, channel: str, name: str) -> tuple[list[dict], object]:
    """Store the file, prepare and send the message as delivery does; what the platform received."""
    data = (FIXTURES / "media" / name).read_bytes()
    media = world.store.put(data, None)
    await world.customer_sends(channel, MARIA[channel], "text")  # opens the platform's window
    await world.client.delete(f"/_sim/{channel}/requests")
    handler, account = connector(channel), world.account(channel)
    prepared = await OutboundMedia(world.store, SIGNER, PUBLIC, world.session, RetryPolicy(attempts=1)).prepare(
        handler, account, outbound(world, channel, media.key))
    for request in handler.requests_for(account, prepared):
        result, _ = await send(world.session, handler, request, RetryPolicy(attempts=1))
        assert result.ok, result.reason
    return await world.requests(channel), media


def signed_key(url: str) -> str:
    """The store key of a signed URL under PUBLIC, after checking the signature."""
    assert url.startswith(f"{PUBLIC}/media/")
    split = urlsplit(url)
    key, query = split.path.rsplit("/", 1)[1], parse_qs(split.query)
    assert SIGNER.valid(key, query["exp"][0], query["sig"][0])
    return key


@ASYNC
async def test_whatsapp_uploads_the_image_then_sends_it_by_the_returned_id(media_world):  # noqa: F811
    received, media = await deliver(media_world, "whatsapp", "router_error.png")
    upload, message = received
    assert (upload["method"], upload["path"]) == ("POST", "/whatsapp/v21.0/109876543210987/media")
    assert upload["headers"]["content-type"] == "multipart/form-data"
    assert upload["body"] == {"fields": {"messaging_product": "whatsapp", "type": "image/png"}, "file": {
        "filename": f"{media.key[:16]}.png", "content_type": "image/png", "size": media.size, "sha256": media.key}}
    assert message["path"] == "/whatsapp/v21.0/109876543210987/messages"
    assert message["body"] == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": MARIA["whatsapp"],
                               "type": "image", "image": {"id": upload["response"]["id"], "caption": CAPTION}}


@ASYNC
async def test_x_uploads_the_image_for_dms_then_attaches_the_media_id(media_world):  # noqa: F811
    received, media = await deliver(media_world, "x", "receipt.jpg")
    upload, message = received
    assert (upload["path"], upload["status"]) == ("/x/2/media/upload", 200)
    assert upload["body"]["fields"] == {"media_category": "dm_image", "media_type": "image/jpeg"}
    assert upload["body"]["file"]["sha256"] == media.key
    media_id = upload["response"]["data"]["id"]
    assert message["path"] == f"/x/2/dm_conversations/with/{MARIA['x']}/messages"
    assert message["body"] == {"text": CAPTION, "attachments": [{"media_id": media_id}]}


@ASYNC
async def test_messenger_sends_a_reusable_attachment_by_long_lived_public_url(media_world):  # noqa: F811
    received, media = await deliver(media_world, "messenger", "receipt.jpg")
    image, caption = received
    url = image["body"]["message"]["attachment"]["payload"]["url"]
    assert image["body"] == {"recipient": {"id": MARIA["messenger"]}, "messaging_type": "RESPONSE", "message": {
        "attachment": {"type": "image", "payload": {"url": url, "is_reusable": True}}}}
    assert signed_key(url) == media.key
    assert int(parse_qs(urlsplit(url).query)["exp"][0]) - SIGNER.clock() > 6 * 86400  # a platform may fetch late
    assert caption["body"]["message"] == {"text": CAPTION}


@ASYNC
async def test_line_sends_original_and_a_small_preview_by_https_url(media_world):  # noqa: F811
    world = media_world
    received, media = await deliver(world, "line", "storefront.jpg")
    (push,) = received
    assert push["path"] == "/line/v2/bot/message/push" and push["status"] == 200
    image, text = push["body"]["messages"]
    assert push["body"]["to"] == MARIA["line"] and set(image) == {"type", "originalContentUrl", "previewImageUrl"}
    assert image["type"] == "image" and signed_key(image["originalContentUrl"]) == media.key
    preview, data = world.store.get(signed_key(image["previewImageUrl"]))
    assert preview.mime_type == "image/jpeg" and max(Image.open(io.BytesIO(data)).size) == 240
    assert text == {"type": "text", "text": CAPTION}


@ASYNC
async def test_line_refuses_stored_images_without_an_https_public_url(media_world):  # noqa: F811
    world = media_world
    media = world.store.put((FIXTURES / "media" / "receipt.jpg").read_bytes(), "image/jpeg")
    prepare = OutboundMedia(world.store, SIGNER, "http://127.0.0.1:8080", world.session, RetryPolicy()).prepare
    with pytest.raises(Refused) as refused:
        await prepare(connector("line"), world.account("line"), outbound(world, "line", media.key))
    assert refused.value.rule == "capability.image_url" and "SWITCHBOARD_PUBLIC_BASE_URL" in refused.value.reason


@ASYNC
async def test_a_refused_upload_fails_the_message_with_the_platforms_reason(media_world):  # noqa: F811
    world = media_world
    media = world.store.put((FIXTURES / "media" / "receipt.jpg").read_bytes(), "image/jpeg")
    bad = world.account("whatsapp").model_copy(update={"access_token": type(world.account("whatsapp").access_token)("x")})
    prepare = OutboundMedia(world.store, SIGNER, PUBLIC, world.session, RetryPolicy(attempts=1)).prepare
    with pytest.raises(UploadFailed) as failed:
        await prepare(connector("whatsapp"), bad, outbound(world, "whatsapp", media.key))
    assert failed.value.result.error_code == "190"


@ASYNC
async def test_a_key_not_in_the_store_or_a_delivery_without_a_store_is_refused_before_any_call(media_world):  # noqa: F811
    world = media_world
    prepare = OutboundMedia(world.store, SIGNER, PUBLIC, world.session, RetryPolicy()).prepare
    with pytest.raises(Refused) as missing:
        await prepare(connector("x"), world.account("x"), outbound(world, "x", "ab" * 32))
    assert missing.value.rule == "media.missing"
    no_store = Delivery(world.accounts, None, None, None, world.session, codec=None)
    with pytest.raises(Refused) as unavailable:
        await no_store._with_media(connector("x"), world.account("x"), outbound(world, "x", "ab" * 32))
    assert unavailable.value.rule == "media.unavailable"
    assert await world.requests("x") == []
