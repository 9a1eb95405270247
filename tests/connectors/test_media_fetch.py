"""Inbound media: each platform's fetch against the simulators, and the allowlist as the SSRF control
(a host off the list is never connected to, nor is a redirect target off the list)."""
import asyncio
import time

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.media.fetch import MediaFetcher, link_name
from connectors.media.safe_get import host_allowed, safe_get
from connectors.media.store import MediaRefused
from connectors.registry import connector
from connectors.simulators.media import FILES
from tests.connectors.simulators.helpers import MARIA
from tests.connectors.simulators.media_world import LIMIT, media_world  # noqa: F401 (fixture)

ASYNC = pytest.mark.asyncio(loop_scope="session")
SAMPLES = {p.read_bytes(): p.name for p in FILES.iterdir()}


@pytest.mark.parametrize("url,hosts,allowed", [
    ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", ("lookaside.fbsbx.com",), True),
    ("https://scontent-iad3-1.xx.fbcdn.net/v/t1/1_n.jpg", ("*.fbcdn.net",), True),
    ("https://fbcdn.net.evil.example/x.jpg", ("*.fbcdn.net",), False),
    ("https://evilfbcdn.net/x.jpg", ("*.fbcdn.net",), False),
    ("http://169.254.169.254/latest/meta-data/", ("*.fbcdn.net", "api-data.line.me"), False),
    ("http://127.0.0.1:8090/line/v2/bot/message/1/content", ("127.0.0.1",), True),
    ("http://[::1]:8090/x", ("127.0.0.1",), False),
    ("http://2130706433/x", ("127.0.0.1",), False),        # 127.0.0.1 spelled as a number: not the name on the list
    ("https://user:pw@api-data.line.me/x", ("api-data.line.me",), False),
    ("file:///etc/passwd", ("localhost",), False),
    ("ftp://api-data.line.me/x", ("api-data.line.me",), False)])
def test_only_http_urls_to_listed_hosts_pass(url, hosts, allowed):
    assert host_allowed(url, hosts) is allowed


class ConnectionRecorder:
    """A TCP server that counts every connection it accepts (and answers a minimal 200)."""

    def __init__(self):
        self.connections = 0

    async def __aenter__(self):
        async def accept(reader, writer):
            self.connections += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()
        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


@ASYNC
async def test_a_host_off_the_allowlist_is_never_connected_to():
    async with ConnectionRecorder() as target, aiohttp.ClientSession() as session:
        with pytest.raises(MediaRefused) as refused:
            await safe_get(session, f"http://127.0.0.1:{target.port}/secret", {}, ("api-data.line.me",), LIMIT)
        assert refused.value.rule == "media.host"
        # the same server is reachable: the refusal, not the network, kept us out
        await safe_get(session, f"http://127.0.0.1:{target.port}/ok", {}, ("127.0.0.1",), LIMIT)
        assert target.connections == 1


@ASYNC
async def test_a_redirect_to_a_host_off_the_allowlist_is_refused_before_connecting():
    async with ConnectionRecorder() as internal, aiohttp.ClientSession() as session:
        async def redirect(request):
            raise web.HTTPFound(f"http://localhost:{internal.port}/latest/meta-data/")
        app = web.Application()
        app.router.add_get("/media/1", redirect)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            with pytest.raises(MediaRefused) as refused:
                await safe_get(session, str(server.make_url("/media/1")), {"Authorization": "Bearer t"},
                               ("127.0.0.1",), LIMIT)
        finally:
            await server.close()
        assert refused.value.rule == "media.host" and "localhost" in refused.value.reason
        assert internal.connections == 0


@ASYNC
async def test_a_body_over_the_limit_stops_the_download():
    async with aiohttp.ClientSession() as session:
        async def big(request):
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(64):
                await response.write(b"\xff" * 65536)
            return response
        app = web.Application()
        app.router.add_get("/big", big)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            with pytest.raises(MediaRefused) as refused:
                await safe_get(session, str(server.make_url("/big")), {}, ("127.0.0.1",), 100_000)
        finally:
            await server.close()
        assert refused.value.rule == "media.too_large"


@ASYNC
@pytest.mark.parametrize("channel", ["whatsapp", "line", "messenger", "x"])
async def test_each_platforms_customer_image_is_fetched_with_its_auth_and_stored(media_world, channel):  # noqa: F811
    world = media_world
    account = world.account(channel)
    body = await world.customer_sends(channel, MARIA[channel], "image")
    records = connector(channel).parse(account, body, int(time.time() * 1000)).messages
    image = next(i for r in records for i in r["content"] if i["type"] == "image")
    fetcher = MediaFetcher(world.store, world.session, world.accounts, LIMIT)
    fetcher.prefetch(records)
    await fetcher.idle()
    stored = world.store.resolve(link_name(channel, account.account_id, image))
    assert stored is not None and fetcher.counters == {"media_fetched": 1}
    media, data = world.store.get(stored.key)
    assert SAMPLES[data] in ("receipt.jpg", "router_error.png") and media.mime_type in ("image/jpeg", "image/png")
    again = await fetcher.media_for(channel, account.account_id, image)   # on demand: already stored
    assert again == media and fetcher.counters["media_fetched"] == 1


@ASYNC
async def test_whatsapp_media_urls_need_the_bearer_token_like_the_graph_api(media_world):  # noqa: F811
    world = media_world
    account = world.account("whatsapp")
    body = await world.customer_sends("whatsapp", MARIA["whatsapp"], "image")
    media_id = connector("whatsapp").parse(account, body, 0).messages[0]["content"][0]["media_id"]
    assert (await world.client.get(f"/whatsapp/v21.0/{media_id}")).status == 401
    lookup = await world.client.get(f"/whatsapp/v21.0/{media_id}", headers={"Authorization": "Bearer demo-whatsapp-system-user-token"})
    answer = await lookup.json()
    assert set(answer) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert (await world.session.get(answer["url"])).status == 401


@ASYNC
async def test_a_prefetch_that_is_refused_is_counted_and_never_raises(media_world):  # noqa: F811
    world = media_world
    account = world.account("messenger")
    body = await world.customer_sends("messenger", MARIA["messenger"], "image")
    records = connector("messenger").parse(account, body, 0).messages
    image = next(i for i in records[0]["content"] if i["type"] == "image")
    image["url"] = image["url"].replace("127.0.0.1", "localhost")  # a CDN host the page never allowed
    fetcher = MediaFetcher(world.store, world.session, world.accounts, LIMIT)
    fetcher.prefetch(records)
    await fetcher.idle()
    assert fetcher.counters == {"media_refused.media.host": 1}
    with pytest.raises(MediaRefused):
        await fetcher.media_for("messenger", account.account_id, image)


@pytest.mark.kafka
@ASYNC
async def test_the_edge_prefetches_a_published_webhooks_image_and_serves_it_by_signed_url(kafka_bootstrap, tmp_path):
    """Simulated WhatsApp → the real edge (real broker) → published → fetched in the background → GET /media."""
    from aiohttp.test_utils import TestClient, unused_port

    from connectors.edge import make_app
    from connectors.media import DirectoryStore, EdgeMedia, Signer
    from connectors.publisher import Publisher
    from schemas import Codec
    from switchboard.settings import load_settings
    from tests.connectors.simulators.media_world import moved_accounts, start_simulators

    port = unused_port()
    accounts = moved_accounts(tmp_path, port)
    settings = load_settings(kafka_bootstrap=kafka_bootstrap)
    publisher = Publisher(settings.kafka_client_config(), transactional_id=None, timeout_s=10.0)
    media = EdgeMedia(DirectoryStore(tmp_path / "media", LIMIT), Signer(b"edge-secret"), accounts, LIMIT, 300)
    edge = TestClient(TestServer(make_app(settings, accounts, publisher, Codec(), media=media), host="127.0.0.1"))
    await edge.start_server()
    sim, control = await start_simulators(accounts, port, str(edge.make_url("")).rstrip("/"))
    try:
        answer = await (await control.post("/_sim/whatsapp/customers/messages",
                                           json={"customer": MARIA["whatsapp"], "kind": "image"})).json()
        assert answer["status"] == 200
        await media.fetcher.idle()
        item = {"media_id": answer["event"]["message"]["image"]["id"]}
        stored = media.store.resolve(link_name("whatsapp", "109876543210987", item))
        served = await edge.get(media.page_url(stored.key))
        assert served.status == 200 and SAMPLES[await served.read()] in ("receipt.jpg", "router_error.png")
        assert (await edge.get(f"/media/{stored.key}")).status == 403
    finally:
        await control.close()
        await edge.close()
        publisher.close()
