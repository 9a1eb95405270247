"""Web Messaging's server side in the edge: the guest socket, history, uploads, deliveries and the
widget's files (docs/channels/web.md). The widget itself is `static/`."""
from .app import PUBLIC, WebMessaging, build, mount

__all__ = ["PUBLIC", "WebMessaging", "build", "mount"]
