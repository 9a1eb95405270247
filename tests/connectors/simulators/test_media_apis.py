"""The simulated platforms serve customers' media as the platforms do: real files, each platform's auth."""
import hashlib
import json

import aiohttp
import pytest

from connectors.simulators.media import FILES
from tests.connectors.simulators.helpers import MARIA, auth
from tests.connectors.simulators.media_world import media_world  # noqa: F401 (fixture)

pytestmark = pytest.mark.asyncio(loop_scope="session")
SAMPLES = {p.read_bytes(): p.name for p in FILES.iterdir()}


async def test_whatsapp_webhook_sha256_is_the_served_files_hash(media_world):  # noqa: F811
    world = media_world
    image = json.loads(await world.customer_sends("whatsapp", MARIA["whatsapp"], "image"))[
        "entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    lookup = await (await world.client.get(f"/whatsapp/v21.0/{image['id']}", headers=auth("whatsapp"))).json()
    data = await (await world.session.get(lookup["url"], headers=auth("whatsapp"))).read()
    assert SAMPLES[data] in ("receipt.jpg", "router_error.png")
    assert image["mime_type"] == lookup["mime_type"] and lookup["file_size"] == len(data)
    assert image["sha256"] == lookup["sha256"] == __import__("base64").b64encode(hashlib.sha256(data).digest()).decode()


async def test_line_content_needs_the_channel_token(media_world):  # noqa: F811
    world = media_world
    message = json.loads(await world.customer_sends("line", MARIA["line"], "image"))["events"][0]["message"]
    path = f"/line/v2/bot/message/{message['id']}/content"
    assert message["contentProvider"] == {"type": "line"}
    assert (await world.client.get(path)).status == 401
    served = await world.client.get(path, headers=auth("line"))
    assert served.status == 200 and served.headers["Content-Type"] in ("image/jpeg", "image/png")
    assert (await world.client.get("/line/v2/bot/message/1/content", headers=auth("line"))).status == 404


async def test_messenger_cdn_urls_are_signed_by_their_oh_parameter(media_world):  # noqa: F811
    world = media_world
    url = json.loads(await world.customer_sends("messenger", MARIA["messenger"], "image"))[
        "entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]["url"]
    assert "/messenger-cdn/scontent.xx.fbcdn.net/v/" in url and "oh=" in url
    assert SAMPLES[await (await world.session.get(url)).read()] in ("receipt.jpg", "router_error.png")
    tampered = await world.session.get(url.replace("oh=", "oh=x"))
    assert tampered.status == 403 and await tampered.text() == "Bad URL hash"


async def test_x_dm_media_need_the_users_token(media_world):  # noqa: F811
    world = media_world
    media = json.loads(await world.customer_sends("x", MARIA["x"], "image"))[
        "direct_message_events"][0]["message_create"]["message_data"]["attachment"]["media"]
    url = media["media_url_https"]
    assert media["type"] == "photo" and "/x-ton/1.1/ton/data/dm/" in url
    assert (await world.session.get(url)).status == 401
    assert SAMPLES[await (await world.session.get(url, headers=auth("x"))).read()] in ("receipt.jpg", "router_error.png")


async def test_uploads_without_a_file_or_with_a_wrong_category_are_refused_like_the_platforms(media_world):  # noqa: F811
    world = media_world
    wa = await world.client.post("/whatsapp/v21.0/109876543210987/media", data={"messaging_product": "whatsapp"},
                                 headers=auth("whatsapp"))
    assert wa.status == 400 and (await wa.json())["error"]["code"] == 100
    form = aiohttp.FormData({"media_category": "tweet_image"})
    form.add_field("media", (FILES / "router_error.png").read_bytes(), filename="router_error.png",
                   content_type="image/png")
    x = await world.client.post("/x/2/media/upload", data=form, headers=auth("x"))
    assert x.status == 400 and "media_category" in (await x.json())["errors"][0]["message"]
