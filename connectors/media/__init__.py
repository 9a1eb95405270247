"""The media store and everything around it: checks, signed URLs, platform fetchers, outbound forms."""
from .edge import EdgeMedia, edge_media
from .fetch import MediaFetcher
from .outbound import OutboundMedia, UploadFailed
from .routes import PUBLIC_PREFIX, accept_upload, media_routes
from .signing import PLATFORM_URL_SECONDS, Signer
from .store import DirectoryStore, MediaObject, MediaRefused, MediaStore

__all__ = ["EdgeMedia", "edge_media", "MediaFetcher", "OutboundMedia", "UploadFailed", "PUBLIC_PREFIX",
           "accept_upload", "media_routes", "PLATFORM_URL_SECONDS", "Signer", "DirectoryStore", "MediaObject",
           "MediaRefused", "MediaStore"]
