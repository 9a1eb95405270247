"""HTTP for media: `GET /media/{key}` by signed URL (public: the signature is the credential), and
the agent upload the agent API mounts behind its token check."""
from __future__ import annotations

import asyncio
import mimetypes

from aiohttp import web

from .signing import Signer
from .store import MediaRefused, MediaStore

PUBLIC_PREFIX = "/media/"   # for auth_middleware(public=…)


def media_routes(app: web.Application, store: MediaStore, signer: Signer) -> None:
    """Mount `GET /media/{key}` on `app`."""

    async def serve(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if not signer.valid(key, request.query.get("exp"), request.query.get("sig")):
            return web.json_response({"error": "bad or expired media signature: ask for a new URL"}, status=403)
        found = await asyncio.to_thread(store.get, key)
        if found is None:
            return web.json_response({"error": "no such media"}, status=404)
        media, data = found
        # The type is the one sniffed at put time; nosniff stops a browser from guessing another,
        # and only images render inline (a PDF or video downloads instead of running in our origin).
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300",
                   "Content-Disposition": "inline" if media.mime_type.startswith("image/") else "attachment"}
        return web.Response(body=data, content_type=media.mime_type, headers=headers)

    app.router.add_get("/media/{key}", serve)


async def accept_upload(request: web.Request, store: MediaStore, signer: Signer, url_seconds: float,
                        max_bytes: int) -> web.Response:
    """`POST /api/v1/media` (multipart `file`): stored → 201 `{media_key, url, mime_type, size}`.

    The caller (the agent API) has checked the token and role. 400 names what is wrong with the file.
    """
    try:
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and part.name != "file":
            part = await reader.next()
    except (ValueError, AssertionError):
        part = None
    if part is None:
        return web.json_response({"error": "send the image as multipart/form-data field 'file'"}, status=400)
    data = await _read_limited(part, max_bytes)
    declared = part.headers.get("Content-Type") or mimetypes.guess_type(part.filename or "")[0]
    if declared in (None, "application/octet-stream") and part.filename:
        declared = mimetypes.guess_type(part.filename)[0]
    try:
        media = await asyncio.to_thread(store.put, data, declared)
    except MediaRefused as refused:
        status = 413 if refused.rule == "media.too_large" else 400
        return web.json_response({"error": refused.reason, "rule": refused.rule}, status=status)
    return web.json_response({"media_key": media.key, "url": signer.path(media.key, url_seconds),
                              "mime_type": media.mime_type, "size": media.size}, status=201)


async def _read_limited(part, max_bytes: int) -> bytes:
    """The part's bytes, stopping one byte past the limit (the store then refuses it as too large)."""
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = await part.read_chunk(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:max_bytes + 1]
