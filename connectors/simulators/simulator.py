"""One simulator process: every platform, their shared state, the webhook client and the HTTP app."""
from __future__ import annotations

import asyncio

from aiohttp import web

from channels.registry import CHANNELS, resolve

from .customers import customer_pool
from .state import Clock, SimState
from .webhooks import RETRY_DELAYS, WebhookClient

# Each channel's simulated platform, as its declaration names it (channels/<channel>.py `simulator`).
PLATFORMS = {name: resolve(spec.simulator) for name, spec in CHANNELS.items() if spec.simulator}


class Simulator:
    """The simulated platforms of every configured account, talking to one edge."""

    def __init__(self, accounts, edge_url: str, *, seed: int = 0, clock: Clock | None = None,
                 receipt_delay: float = 0.5, retry_delays=RETRY_DELAYS, pool_size: int = 24):
        self.seed = seed
        self.state = SimState(clock)
        self.accounts = [a for a in accounts if a.channel in PLATFORMS and a.enabled]
        self.receipt_delay = receipt_delay
        self.pool = customer_pool(pool_size, seed)
        self.client = WebhookClient(edge_url, self.state.stats, retry_delays)
        self.platforms = {name: cls(self) for name, cls in PLATFORMS.items()}
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro) -> asyncio.Task:
        """Run `coro` in the background (receipts, redeliveries); cancelled by `close`."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def account(self, channel: str, account_id: str | None = None):
        """A configured account of `channel` (the first one when no id is given), or None."""
        return next((a for a in self.accounts if a.channel == channel
                     and (account_id is None or a.account_id == account_id)), None)

    def app(self) -> web.Application:
        """The HTTP app: every platform's send API under its prefix, plus the /_sim/ control API."""
        from .control import control_routes

        app = web.Application(client_max_size=8 * 1024 * 1024)
        for platform in self.platforms.values():
            app.add_routes(platform.routes())
        app.add_routes(control_routes(self))
        app.on_cleanup.append(lambda _: self.close())
        return app

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until background work (receipts, retries) is done, at most `timeout` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel background work and close the webhook client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()
