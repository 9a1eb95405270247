"""A small stand-in for the edge's guest API (docs/channels/web.md), enough to watch simulated
visitors: the Origin check, sessions by token, a 2-per-second message limit, uploads, events with
ids replayed after `since`. The real server is tested in tests/connectors/webmessaging/."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from aiohttp import web

ORIGIN = "http://127.0.0.1:8080"


@dataclass
class FakeGuestApi:
    """What the fake received, and the sessions it holds (by token)."""

    deployments: dict[str, list[str]] = field(default_factory=lambda: {"acme-website": [ORIGIN]})
    frames: list[dict] = field(default_factory=list)
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)   # token → {id, events, sockets, sent_at}
    now: float = 0.0                                          # the rate limit's clock
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def actions(self, name: str) -> list[dict]:
        return [f for f in self.frames if f.get("action") == name]

    async def agent_says(self, token: str, text: str, message_id: str | None = None) -> None:
        """An agent message for the token's session: kept for replay, pushed to its open sockets."""
        session = self.sessions[token]
        n = next(self._ids)
        event = {"type": "event", "event": "message", "id": f"0-{n}",
                 "body": {"messageId": message_id or f"m-{n}", "direction": "outbound", "text": text,
                          "senderName": "Alice", "content": [], "sentAt": n, "conversationId": "c-1"}}
        session["events"].append(event)
        for ws in list(session["sockets"]):
            await ws.send_json(event)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get("/webmessaging/v1", self._socket), web.put("/webmessaging/v1/uploads/{id}", self._put)])
        return app

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        origins = self.deployments.get(request.query.get("deploymentId", ""))
        if origins is None:
            raise web.HTTPNotFound()
        if request.headers.get("Origin") not in origins:
            raise web.HTTPForbidden()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            frame = json.loads(msg.data)
            self.frames.append(frame)
            await ws.send_json(await self._answer(ws, frame))
        for session in self.sessions.values():
            session["sockets"].discard(ws)
        return ws

    async def _answer(self, ws, frame: dict) -> dict:
        action, token = frame["action"], frame.get("token")
        reply = {"type": "response", "action": action, "tracingId": frame.get("tracingId"), "body": {}}
        if action == "configureSession":
            resumed = token in self.sessions and not frame.get("startNew")
            if not resumed:
                self.sessions[token] = {"id": f"ws-{next(self._ids)}", "events": [], "sockets": set(), "sent_at": []}
            session = self.sessions[token]
            session["sockets"].add(ws)
            reply["body"] = {"sessionId": session["id"], "resumed": resumed, "readOnly": False}
            await ws.send_json(reply)
            ids = [e["id"] for e in session["events"]]
            since = frame.get("since")
            for event in session["events"][ids.index(since) + 1 if since in ids else 0:]:
                await ws.send_json(event)   # a new session has none; a resumed one replays after `since`
            return {"type": "event", "event": "receipt", "body": {}}   # something without an id, to ignore
        if action == "onMessage":
            sent = self.sessions[token]["sent_at"]
            if len([t for t in sent if t > self.now - 1]) >= 2:
                self.now += 1   # the second the visitor is told to wait passes
                return {"type": "error", "action": action, "tracingId": frame.get("tracingId"),
                        "code": "rate_limited", "message": "slow down", "retryAfter": 0.01}
            sent.append(self.now)
            reply["body"] = {"messageId": f"in-{next(self._ids)}"}
        elif action == "getUploadUrl":
            reply["body"] = {"attachmentId": f"att-{next(self._ids)}", "uploadUrl": f"/webmessaging/v1/uploads/u{len(self.uploads)}"}
        elif action == "closeSession":
            self.sessions.pop(token, None)
        return reply

    async def _put(self, request: web.Request) -> web.Response:
        self.uploads.append((request.content_type, await request.read()))
        return web.json_response({"attachmentId": f"att-put-{request.match_info['id']}"}, status=201)
