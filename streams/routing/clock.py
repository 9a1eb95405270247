"""The routing clock: every second, a routing-tick per configured tenant, keyed by tenant.

A faust timer cannot write tables, so it sends ticks through `routing-ticks` (co-partitioned
with routing-requests) and the routing agent fires due timeouts when a tick arrives. Every worker
ticks every tenant; extra ticks are harmless because the ACD's clock never goes backwards. A
tenant with routing domains still gets one tick: the routing sequencer copies it to each domain's
key (`keys.py`), so this clock need not know the domains. Tests leave this module out and produce ticks with the times they choose.
"""
from __future__ import annotations

import logging
import time

from schemas import topic
from streams.app import app
from streams.processor import Wiring
from streams.produce import ProduceFailed, send_all
from streams.records import Output

from .config import ConfigCache

TICK_SECONDS = 1.0
TICKS = topic("routing-ticks").name
log = logging.getLogger(__name__)


class Runtime:
    """The routing files and the codec, set by `setup` from the worker's wiring."""

    configs: ConfigCache | None = None
    wiring: Wiring | None = None


def setup(wiring: Wiring) -> None:
    """Read the routing files of the settings (the worker calls this before the app starts)."""
    Runtime.configs = wiring.configs or ConfigCache(wiring.settings.routing_dir)
    Runtime.wiring = wiring


@app.timer(interval=TICK_SECONDS)
async def tick_routing_domains() -> None:
    """Send the wall-clock time to every routing domain."""
    if Runtime.configs is None:
        return
    now = int(time.time() * 1000)
    try:
        await send_all([Output(TICKS, tenant, "routing-tick", {"tenant_id": tenant, "tick_at": now})
                        .encoded(Runtime.wiring.codec) for tenant in Runtime.configs.tenants()])
    except ProduceFailed as exc:  # a lost tick is harmless: the next one carries a later time
        log.warning("routing ticks not sent: %s", exc)
