"""Media as the simulated platforms hold them: real sample files customers send, served the way
each platform serves them (WhatsApp media endpoint + authenticated URL, LINE content API, Messenger
and X CDN-like URLs), and the uploads agents' images arrive as (WhatsApp, X)."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

FILES = Path(__file__).with_name("media_files")
# What a customer's media of each kind is (kind → sample files, name and type).
SAMPLES = {"image": [("receipt.jpg", "image/jpeg"), ("router_error.png", "image/png")],
           "sticker": [("sticker.webp", "image/webp")], "video": [("clip.mp4", "video/mp4")],
           "audio": [("voice.ogg", "audio/ogg")], "file": [("statement.pdf", "application/pdf")]}


@dataclass(frozen=True)
class Held:
    """One file a platform holds: its bytes, type, and who may fetch it (None: anyone with the URL)."""

    data: bytes
    mime_type: str
    name: str
    token: str | None = None

    @property
    def sha256_b64(self) -> str:
        """WhatsApp's `sha256` field: base64 of the file's SHA-256."""
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


def sample(rng, kind: str) -> Held:
    """A sample file of `kind` (chosen with the platform's seeded rng)."""
    name, mime = rng.choice(SAMPLES.get(kind, SAMPLES["file"]))
    return Held((FILES / name).read_bytes(), mime, name)


def origin(account) -> str:
    """scheme://host:port of the account's API: where the simulator itself answers."""
    parts = urlsplit(account.api_base_url or "http://127.0.0.1:8090")
    return f"{parts.scheme}://{parts.netloc}"


def hold(state, channel: str, ref: str, held: Held) -> Held:
    """Remember `held` under `ref` (a media id, a message id, a CDN path) for this platform."""
    state.scratch[f"{channel}_media"][ref] = held
    return held


def held(state, channel: str, ref: str) -> Held | None:
    """What `hold` remembered, or None."""
    return state.scratch[f"{channel}_media"].get(ref)


def file_response(item: Held) -> web.Response:
    """The bytes with their type, as a CDN answers."""
    return web.Response(body=item.data, content_type=item.mime_type,
                        headers={"Content-Length": str(len(item.data)), "Cache-Control": "max-age=1209600"})


async def upload(request: web.Request, file_field: str) -> tuple[dict, Held | None]:
    """A multipart upload as (text fields, the file part) — how the platform reads it."""
    if not request.content_type.startswith("multipart/"):  # a form without a file: fields only
        return {k: str(v) for k, v in (await request.post()).items()}, None
    fields, file = {}, None
    reader = await request.multipart()
    async for part in reader:
        if part.name == file_field and part.filename is not None:
            file = Held(await part.read(decode=False), part.headers.get("Content-Type", ""), part.filename)
        else:
            fields[part.name] = (await part.read(decode=True)).decode()
    return fields, file


def log_upload(platform, request: web.Request, fields: dict, file: Held | None, status: int, answer: dict) -> None:
    """The request log entry of an upload: fields, and the file as name/type/size/sha256 (not bytes)."""
    body = {"fields": fields, "file": None if file is None else {
        "filename": file.name, "content_type": file.mime_type, "size": len(file.data),
        "sha256": hashlib.sha256(file.data).hexdigest()}}
    platform.state.requests[platform.channel].append(
        {"at": platform.state.clock.now_ms(), "method": request.method, "path": request.path, "query": {},
         "headers": {"content-type": request.headers.get("Content-Type", "").split(";")[0]}, "body": body,
         "status": status, "response": answer, "fault": None})
    platform.state.stats.sends[platform.channel][str(status)] += 1
    platform.state.stats.sends[platform.channel]["received"] += 1
