"""The media store: types sniffed from real bytes, mismatches and oversize refused, content-addressed files."""
import hashlib

import pytest

from connectors.media.store import DirectoryStore, MediaRefused
from tests.connectors.helpers import FIXTURES

MEDIA = FIXTURES / "media"
LIMIT = 16 * 1024 * 1024


def read(name: str) -> bytes:
    return (MEDIA / name).read_bytes()


@pytest.fixture
def store(tmp_path):
    return DirectoryStore(tmp_path / "media", LIMIT)


@pytest.mark.parametrize("name,declared,mime", [
    ("receipt.jpg", "image/jpeg", "image/jpeg"), ("router_error.png", "image/png", "image/png"),
    ("receipt.jpg", "image/jpg", "image/jpeg"), ("statement.pdf", "application/pdf", "application/pdf"),
    ("router_error.png", None, "image/png"), ("receipt.jpg", "application/octet-stream", "image/jpeg")])
def test_real_files_are_stored_under_their_hash_with_the_sniffed_type(store, name, declared, mime):
    data = read(name)
    media = store.put(data, declared)
    assert (media.key, media.mime_type, media.size) == (hashlib.sha256(data).hexdigest(), mime, len(data))
    assert store.exists(media.key) and store.get(media.key) == (media, data)


def test_a_png_renamed_jpg_is_refused_as_a_mismatch(store):
    with pytest.raises(MediaRefused) as refused:
        store.put(read("router_error_renamed.jpg"), "image/jpeg")
    assert refused.value.rule == "media.type_mismatch" and "image/png" in refused.value.reason


def test_a_file_over_the_limit_is_refused_and_nothing_is_written(tmp_path):
    data = read("storefront.jpg")
    small = DirectoryStore(tmp_path / "media", len(data) - 1)
    with pytest.raises(MediaRefused) as refused:
        small.put(data, "image/jpeg")
    assert refused.value.rule == "media.too_large" and "SWITCHBOARD_MEDIA_MAX_BYTES" in refused.value.reason
    assert not (tmp_path / "media").exists()
    assert small.put(read("receipt.jpg"), "image/jpeg").size < len(data)


@pytest.mark.parametrize("data", [read("page.html"), b"GIF89a but not really", b""])
def test_anything_not_on_the_allow_list_is_refused(store, data):
    with pytest.raises(MediaRefused) as refused:
        store.put(data, "image/gif")
    assert refused.value.rule in ("media.type", "media.empty")


def test_the_same_bytes_twice_are_one_file_with_metadata_beside_and_no_temporary_left(store, tmp_path):
    data = read("receipt.jpg")
    first, second = store.put(data, "image/jpeg"), store.put(data, None)
    assert first == second
    files = sorted(p.name for p in (tmp_path / "media").rglob("*") if p.is_file())
    assert files == [f"{first.key}.bin", f"{first.key}.json"]


def test_a_second_store_on_the_same_directory_sees_what_the_first_wrote(store, tmp_path):
    """Edge replicas share the directory: one stores, another serves."""
    media = store.put(read("router_error.png"), "image/png")
    store.link("inbound:whatsapp:109876543210987:1234567890123456", media.key)
    other = DirectoryStore(tmp_path / "media", LIMIT)
    assert other.get(media.key)[0] == media
    assert other.resolve("inbound:whatsapp:109876543210987:1234567890123456") == media
    assert other.resolve("inbound:whatsapp:109876543210987:other") is None


@pytest.mark.parametrize("key", ["../../etc/passwd", "A" * 64, "", "ab/cd"])
def test_keys_that_are_not_hex_digests_never_reach_the_file_system(store, key):
    assert store.get(key) is None and not store.exists(key)
