"""One browser's guest socket (docs/channels/web.md "The guest API"), as the simulated visitors use it:
frames out with a tracingId, answers matched back to their askers, events handed on."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aiohttp


class GuestError(Exception):
    """An error frame of the guest API (`code`, and `retryAfter` seconds for rate limits)."""

    def __init__(self, frame: dict):
        super().__init__(frame.get("message") or frame.get("code"))
        self.code, self.retry_after = frame.get("code", "bad_request"), frame.get("retryAfter")


class GuestSocket:
    """An open guest socket: `ask` an action and get its answer's body; events go to `on_event`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, on_event: Callable[[dict], Awaitable[None]],
                 timeout: float):
        self.ws, self.on_event, self.timeout = ws, on_event, timeout
        self._answers: dict[str, asyncio.Future] = {}
        self._next = 0

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, url: str, origin: str, on_event, timeout: float = 10.0):
        """Upgrade to the socket as a page of `origin` would (aiohttp.WSServerHandshakeError: 403, 404)."""
        ws = await asyncio.wait_for(session.ws_connect(url, headers={"Origin": origin}, heartbeat=30), timeout)
        return cls(ws, on_event, timeout)

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def ask(self, action: str, **fields) -> dict:
        """One frame and its answer's body (matched by tracingId); GuestError for an error frame."""
        self._next += 1
        tracing = f"sim-{self._next}"
        answer = self._answers[tracing] = asyncio.get_running_loop().create_future()
        try:
            await self.ws.send_json({"action": action, "tracingId": tracing, **fields})
            frame = await asyncio.wait_for(answer, self.timeout)
        finally:
            self._answers.pop(tracing, None)
        if frame.get("type") == "error":
            raise GuestError(frame)
        return frame.get("body") or {}

    async def tell(self, action: str, **fields) -> None:
        """A frame whose answer nobody waits for (markRead)."""
        await self.ws.send_json({"action": action, **fields})

    async def read(self) -> None:
        """Every frame until the socket closes: answers to their askers, events to `on_event`."""
        async for msg in self.ws:
            try:
                frame = json.loads(msg.data) if msg.type == aiohttp.WSMsgType.TEXT else None
            except ValueError:
                frame = None
            if not isinstance(frame, dict):
                continue
            waiting = self._answers.get(frame.get("tracingId") or "")
            if frame.get("type") in ("response", "error") and waiting is not None and not waiting.done():
                waiting.set_result(frame)
            elif frame.get("type") == "event":
                await self.on_event(frame)
        for waiting in list(self._answers.values()):   # the socket went away mid-question
            if not waiting.done():
                waiting.set_exception(ConnectionError("the guest socket closed"))

    async def close(self) -> None:
        """Close the page."""
        await self.ws.close()
