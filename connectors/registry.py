"""Every channel connector, by channel name: adding a channel adds one line here."""
from __future__ import annotations

from .base import Connector
from .line import LineConnector
from .messenger import MessengerConnector
from .open import OpenConnector
from .whatsapp import WhatsAppConnector
from .x import XConnector

CONNECTORS: dict[str, Connector] = {
    "messenger": MessengerConnector(),
    "whatsapp": WhatsAppConnector(),
    "line": LineConnector(),
    "x": XConnector(),
    "open": OpenConnector(),
}


def connector(channel: str) -> Connector | None:
    """The connector of `channel`, or None when Switchboard has none (e.g. `web`, served elsewhere)."""
    return CONNECTORS.get(channel)
