"""Every channel connector, by channel name, from the channels' declarations (channels/registry.py)."""
from __future__ import annotations

from channels.registry import CHANNELS, resolve

from .base import Connector

CONNECTORS: dict[str, Connector] = {name: resolve(spec.connector)() for name, spec in CHANNELS.items() if spec.connector}


def connector(channel: str) -> Connector | None:
    """The connector of `channel`, or None when Switchboard has none (e.g. `web`, served elsewhere)."""
    return CONNECTORS.get(channel)
