"""Signed media URLs (valid, expired, tampered) and the two HTTP routes: GET /media/{key}, the agent upload."""
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connectors.media.routes import accept_upload, media_routes
from connectors.media.signing import Signer
from connectors.media.store import DirectoryStore
from tests.connectors.helpers import FIXTURES

ASYNC = pytest.mark.asyncio(loop_scope="session")
MEDIA = FIXTURES / "media"
NOW = 1_760_000_000.0
SECRET = b"test-auth-secret-for-media-urls"


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def parts(path: str) -> tuple[str, str, str]:
    split = urlsplit(path)
    query = parse_qs(split.query)
    return split.path.rsplit("/", 1)[1], query["exp"][0], query["sig"][0]


def test_a_signed_url_is_valid_until_it_expires():
    clock = Clock()
    signer = Signer(SECRET, clock)
    key, exp, sig = parts(signer.path("ab" * 32, 300))
    assert int(exp) == NOW + 300 and signer.valid(key, exp, sig)
    clock.now = NOW + 300
    assert signer.valid(key, exp, sig)
    clock.now = NOW + 301
    assert not signer.valid(key, exp, sig)


def test_a_tampered_key_expiry_or_signature_is_refused():
    signer = Signer(SECRET, Clock())
    key, exp, sig = parts(signer.path("ab" * 32, 300))
    assert not signer.valid("cd" * 32, exp, sig)                       # another file
    assert not signer.valid(key, str(int(exp) + 86400), sig)           # a longer life
    assert not signer.valid(key, exp, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not signer.valid(key, exp, None) and not signer.valid(key, None, sig) and not signer.valid(key, "-1", sig)
    assert not Signer(b"another secret", Clock()).valid(key, exp, sig)  # another deployment's key


def test_absolute_urls_for_platforms_live_under_the_public_base():
    url = Signer(SECRET, Clock()).url("https://edge.acme.example/", "ab" * 32, 7 * 86400)
    assert url.startswith(f"https://edge.acme.example/media/{'ab' * 32}?exp={int(NOW) + 7 * 86400}&sig=")


@pytest.fixture
async def served(tmp_path):
    store, signer = DirectoryStore(tmp_path / "media", 64 * 1024), Signer(SECRET)
    app = web.Application()
    media_routes(app, store, signer)

    async def upload(request):
        return await accept_upload(request, store, signer, 300, store.max_bytes)
    app.router.add_post("/api/v1/media", upload)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield store, signer, client
    await client.close()


@ASYNC
async def test_get_media_serves_the_sniffed_type_with_nosniff_and_inline_only_for_images(served):
    store, signer, client = served
    image = store.put((MEDIA / "router_error.png").read_bytes(), "image/png")
    pdf = store.put((MEDIA / "statement.pdf").read_bytes(), "application/pdf")
    got = await client.get(signer.path(image.key, 300))
    assert got.status == 200 and await got.read() == (MEDIA / "router_error.png").read_bytes()
    assert (got.headers["Content-Type"], got.headers["X-Content-Type-Options"], got.headers["Content-Disposition"]) \
        == ("image/png", "nosniff", "inline")
    doc = await client.get(signer.path(pdf.key, 300))
    assert doc.headers["Content-Type"] == "application/pdf" and doc.headers["Content-Disposition"] == "attachment"


@ASYNC
async def test_get_media_answers_403_without_a_good_signature_and_404_for_an_unknown_key(served):
    store, signer, client = served
    image = store.put((MEDIA / "receipt.jpg").read_bytes(), "image/jpeg")
    assert (await client.get(f"/media/{image.key}")).status == 403
    expired = Signer(SECRET, lambda: NOW - 3600).path(image.key, 300)
    assert (await client.get(expired)).status == 403
    assert (await client.get(signer.path(image.key, 300).replace("sig=", "sig=0"))).status == 403
    assert (await client.get(signer.path("ef" * 32, 300))).status == 404


def form(name: str, filename: str, content_type: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", (MEDIA / name).read_bytes(), filename=filename, content_type=content_type)
    return data


@ASYNC
async def test_an_upload_is_stored_and_answered_with_a_working_page_url(served):
    store, signer, client = served
    answer = await client.post("/api/v1/media", data=form("receipt.jpg", "receipt.jpg", "image/jpeg"))
    body = await answer.json()
    assert answer.status == 201 and body["mime_type"] == "image/jpeg" and body["size"] == 8503
    assert store.exists(body["media_key"])
    assert (await client.get(body["url"])).status == 200


@ASYNC
@pytest.mark.parametrize("name,filename,content_type,status,rule", [
    ("router_error_renamed.jpg", "router_error.jpg", "image/jpeg", 400, "media.type_mismatch"),
    ("page.html", "page.png", "image/png", 400, "media.type"),
    ("storefront.jpg", "storefront.jpg", "image/jpeg", 413, "media.too_large")])
async def test_an_upload_that_is_not_what_it_claims_or_too_large_is_refused_with_the_reason(
        served, name, filename, content_type, status, rule):
    store, signer, client = served
    answer = await client.post("/api/v1/media", data=form(name, filename, content_type))
    assert answer.status == status and (await answer.json())["rule"] == rule
    assert not any(p.suffix == ".bin" for p in store.root.rglob("*"))


@ASYNC
async def test_an_upload_without_a_file_field_names_the_field(served):
    _, _, client = served
    answer = await client.post("/api/v1/media", data={"image": "nope"})
    assert answer.status == 400 and "'file'" in (await answer.json())["error"]
