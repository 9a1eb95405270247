"""The routing clock: every second, a routing-tick per configured tenant, keyed by tenant.

A faust timer cannot write tables, so it sends ticks through `routing-ticks` (co-partitioned
with routing-requests) and the routing agent fires due timeouts when a tick arrives. Every worker
ticks every tenant; extra ticks are harmless because the ACD's clock never goes backwards.
Tests leave this module out and produce ticks with the times they choose.
"""
from __future__ import annotations

import time

from schemas import Codec, topic

from ..app import app
from .config import ConfigCache
from switchboard.settings import load_settings

TICK_SECONDS = 1.0
ticks = app.topic(topic("routing-ticks").name, key_type=bytes, value_type=bytes,
                  key_serializer="raw", value_serializer="raw")
_configs = ConfigCache(load_settings().routing_dir)
_codec = Codec()


@app.timer(interval=TICK_SECONDS)
async def tick_routing_domains() -> None:
    """Send the wall-clock time to every routing domain."""
    now = int(time.time() * 1000)
    for tenant in _configs.tenants():
        await ticks.send(key=tenant.encode(), value=_codec.encode("routing-tick", {"tenant_id": tenant, "tick_at": now}))
