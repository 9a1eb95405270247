"""A stand-in for the edge's agent API (docs/workspace.md) serving the real page, for page tests
that need no running system: sign-in, /me, one conversation, and a push socket the test feeds."""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import WSMsgType, web

STATIC = Path(__file__).resolve().parents[2] / "connectors" / "workspace" / "static"
PERSON = {"person_id": "alice", "tenant_id": "acme", "name": "Alice Martin", "role": "agent"}


@dataclass
class StubApi:
    """The stub's state: conversations it lists, events pushed, acks and `since` values received."""

    url: str = ""
    conversations: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)            # bodies of POST /conversations/{id}/messages
    echo_first: bool = False                                  # push the reply's echo before answering the POST
    customer: dict | None = None                              # the history's `customer` (who the customer is)
    answers: list[dict] = field(default_factory=list)         # bodies of POST …/customer/suggestions
    loop: asyncio.AbstractEventLoop | None = None

    def push(self, event: dict) -> None:
        """Record an event (id `0-<n>`) and send it to every open socket."""
        event = {"id": f"0-{len(self.events)}", **event}
        self.events.append(event)
        for ws in list(self.sockets):
            if ws.closed:
                continue
            try:
                asyncio.run_coroutine_threadsafe(ws.send_str(json.dumps(event)), self.loop).result(5)
            except ConnectionResetError:   # the page just closed it: not open, so this event is its replay's
                continue                   # (the socket's handler forgets it when its loop ends)

    def drop_sockets(self) -> None:
        """Close every socket from the server side, as a lost connection or a restarted edge would."""
        for ws in list(self.sockets):
            asyncio.run_coroutine_threadsafe(ws.close(), self.loop).result(5)


def _app(stub: StubApi) -> web.Application:
    def signed_in(request):
        if request.cookies.get("sb_token") != "stub-token":
            raise web.HTTPUnauthorized(text=json.dumps({"error": "sign in first"}), content_type="application/json")

    async def index(request):
        raise web.HTTPFound("/app/index.html")

    async def login(request):
        body = await request.json()
        if (body.get("username"), body.get("password")) != ("alice", "demo-password-alice"):
            return web.json_response({"error": "wrong username or password"}, status=401)
        response = web.json_response({"token": "stub-token", "expires_at": 0, "person": PERSON})
        response.set_cookie("sb_token", "stub-token", httponly=True, samesite="Strict")
        return response

    async def me(request):
        signed_in(request)
        return web.json_response({"person": PERSON, **PERSON, "presence": "available", "on_queue": True})

    async def listing(request):
        signed_in(request)
        return web.json_response(stub.conversations if request.path.endswith("conversations") else [])

    async def details(request):
        signed_in(request)
        found = [c for c in stub.conversations if c["conversation_id"] == request.match_info["id"]]
        return web.json_response(found[0] if found else {"error": "not yours"}, status=200 if found else 403)

    async def history(request):
        signed_in(request)
        return web.json_response({"items": [], "next": None, **({"customer": stub.customer} if stub.customer else {})})

    async def answer(request):
        signed_in(request)
        stub.answers.append(await request.json())
        return web.json_response({"decision": stub.answers[-1]["decision"]}, status=202)

    async def send(request):
        signed_in(request)
        body = await request.json()
        stub.sent.append(body)
        outbound_id = f"ws-out-{body['client_id']}"
        if stub.echo_first:   # the pipeline can be quicker than the POST's answer
            event = {"id": f"0-{len(stub.events)}", **echo(request.match_info["id"], outbound_id, body["content"])}
            stub.events.append(event)
            await asyncio.gather(*[ws.send_str(json.dumps(event)) for ws in stub.sockets])
        return web.json_response({"outbound_id": outbound_id}, status=202)

    async def socket(request):
        signed_in(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        since = request.query.get("since", "")
        stub.connects.append(since)
        after = int(since.split("-")[1]) + 1 if since else 0
        for event in stub.events[after:]:   # the replay the real edge does from Kafka
            await ws.send_str(json.dumps(event))
        stub.sockets.append(ws)
        async for message in ws:
            if message.type == WSMsgType.TEXT and json.loads(message.data).get("type") == "ack":
                stub.acks.append(json.loads(message.data)["id"])
        stub.sockets.remove(ws)
        return ws

    app = web.Application()
    app.add_routes([web.get("/", index), web.static("/app", STATIC), web.post("/api/v1/auth/login", login),
                    web.get("/api/v1/me", me), web.get("/api/v1/conversations", listing), web.get("/api/v1/offers", listing),
                    web.get("/api/v1/canned-responses", listing), web.get("/api/v1/conversations/{id}", details),
                    web.get("/api/v1/conversations/{id}/history", history), web.get("/api/v1/ws", socket),
                    web.post("/api/v1/conversations/{id}/messages", send),
                    web.post("/api/v1/conversations/{id}/customer/suggestions", answer)])
    return app


def echo(conversation_id: str, outbound_id: str, content: list[dict]) -> dict:
    """The `message` event the conversation processor writes for an approved reply (docs/workspace.md)."""
    return {"type": "message", "conversation_id": conversation_id, "message_id": outbound_id, "direction": "outbound",
            "agent_id": "alice", "channel": "whatsapp", "occurred_at": 1_760_000_100_000, "content": content}


def serve(stub: StubApi) -> threading.Event:
    """Serve the stub on a free port in a thread; set the returned event to stop it."""
    stop, ready = threading.Event(), threading.Event()

    async def main():
        stub.loop = asyncio.get_running_loop()
        runner = web.AppRunner(_app(stub), shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        stub.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    threading.Thread(target=asyncio.run, args=(main(),), daemon=True).start()
    assert ready.wait(10), "the stub API did not start"
    return stop
