"""Attachments: `getUploadUrl` gives a one-time signed `PUT /webmessaging/v1/uploads/{id}` (5 minutes).

The URL's signature binds the attachment id to its deployment, session and declared type, so any
edge replica can take the upload without shared state; the bytes are type-sniffed and size-checked
against the deployment and kept in the media store (`connectors/media`), and the store's name
`webmessaging:<deployment>:<session>:<id>` — linked once — is what makes the URL single-use and what
`onMessage` resolves the id through (another session's id resolves to nothing).
"""
from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlencode

from aiohttp import web

from connectors.media.signing import Signer
from connectors.media.sniff import base_type
from connectors.media.store import MediaRefused

from .app import webmessaging_of
from .cors import flooded, json_answer, preflight
from .protocol import GuestError

ROUTES = web.RouteTableDef()
URL_SECONDS = 300
METHODS = "PUT, OPTIONS"


def link_name(deployment_id: str, session_id: str, attachment_id: str) -> str:
    """The media store name of one upload (connectors.media.store `link`/`resolve`)."""
    return f"webmessaging:{deployment_id}:{session_id}:{attachment_id}"


def check_declared(deployment: dict, file_type: str, file_size: int) -> None:
    """getUploadUrl's check of what the visitor says the file is (the bytes are checked again)."""
    if base_type(file_type) not in deployment["file_types"]:
        raise GuestError("file_type_not_allowed", f"{file_type} cannot be attached here: "
                                                  f"{', '.join(deployment['file_types'])}")
    if file_size > deployment["max_file_bytes"]:
        raise GuestError("file_too_large", f"the file has {file_size} bytes; at most {deployment['max_file_bytes']}")


def issue(wm, deployment: dict, session: dict, file_type: str, file_size: int) -> dict:
    """The answer of getUploadUrl: a fresh attachment id and its signed URL."""
    if wm.media is None:
        raise GuestError("file_type_not_allowed", "this edge has no media store: attachments are off")
    check_declared(deployment, file_type, file_size)
    attachment_id = f"att-{secrets.token_hex(12)}"
    expires = int(wm.clock()) + URL_SECONDS
    params = {"deploymentId": deployment["id"], "sessionId": session["session_id"], "type": base_type(file_type),
              "exp": expires}
    params["sig"] = _signer(wm).sign(_signed(attachment_id, params), expires)
    return {"attachmentId": attachment_id, "expiresAt": expires * 1000,
            "uploadUrl": f"{wm.public_url}/webmessaging/v1/uploads/{attachment_id}?{urlencode(params)}"}


def resolve(wm, session: dict, attachment_id: str) -> dict:
    """An uploaded attachment of this session as the envelope carries it; attachment_not_found otherwise."""
    found = None
    if wm.media is not None and isinstance(attachment_id, str) and attachment_id.startswith("att-"):
        found = wm.media.store.resolve(link_name(session["deployment_id"], session["session_id"], attachment_id))
    if found is None:
        raise GuestError("attachment_not_found", f"no uploaded attachment {attachment_id!r} in this session: "
                                                 "getUploadUrl, PUT the bytes, then send its id")
    return {"mediaKey": found.key, "type": found.mime_type, "size": found.size}


def _signer(wm) -> Signer:
    """Upload URLs are signed like media URLs, under their own purpose's key."""
    return Signer(wm.secret, wm.clock, purpose=b"webmessaging-upload")


def _signed(attachment_id: str, params: dict) -> str:
    """What an upload URL's signature binds: the attachment to its deployment, session and type."""
    return "\n".join([attachment_id, params["deploymentId"], params["sessionId"], params["type"]])


preflight(ROUTES, "/webmessaging/v1/uploads/{attachment_id}", METHODS)   # CORS from the deployment's site


@ROUTES.put("/webmessaging/v1/uploads/{attachment_id}")
async def upload(request: web.Request) -> web.Response:
    """The bytes: 201 stored; 403 bad or expired URL, 409 used, 413 too large, 415 not an allowed type,
    429 once the caller's address spent its request budget."""
    wm, q, attachment_id = webmessaging_of(request), request.query, request.match_info["attachment_id"]
    found = wm.deployment(q.get("deploymentId"))
    deployment = found and found[1]
    if (refused := flooded(request, wm, deployment, METHODS)) is not None:   # bytes to read and store
        return refused

    def answer(status: int, data: dict) -> web.Response:
        return json_answer(request, deployment, METHODS, data, status)
    params = {k: q.get(k, "") for k in ("deploymentId", "sessionId", "type", "exp")}
    if found is None or wm.media is None or \
            not _signer(wm).valid(_signed(attachment_id, params), params["exp"], q.get("sig")):
        return answer(403, {"error": "bad or expired upload URL: ask for a new one (getUploadUrl)"})
    name = link_name(deployment["id"], params["sessionId"], attachment_id)
    if await asyncio.to_thread(wm.media.store.resolve, name) is not None:
        return answer(409, {"error": "this upload URL was used already: ask for a new one"})
    data = await _read_limited(request, deployment["max_file_bytes"])
    if len(data) > deployment["max_file_bytes"]:
        return answer(413, {"error": f"the file is larger than {deployment['max_file_bytes']} bytes"})
    try:
        media = await asyncio.to_thread(wm.media.store.put, data, request.headers.get("Content-Type") or params["type"])
    except MediaRefused as refused:
        return answer(413 if refused.rule == "media.too_large" else 415, {"error": refused.reason})
    if media.mime_type not in deployment["file_types"]:
        return answer(415, {"error": f"the file is {media.mime_type}; allowed: {', '.join(deployment['file_types'])}"})
    await asyncio.to_thread(wm.media.store.link, name, media.key)
    return answer(201, {"attachmentId": attachment_id, "type": media.mime_type, "size": media.size})


async def _read_limited(request: web.Request, max_bytes: int) -> bytes:
    """The body, stopping one byte past the limit (then refused as too large)."""
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:max_bytes + 1]

