"""Signed media URLs: `/media/{key}?exp=<epoch s>&sig=<hex HMAC-SHA256>`; the signature is the credential."""
from __future__ import annotations

import hashlib
import hmac
import time

# Pages get short-lived URLs (settings.media_url_seconds); platforms that fetch an image by URL
# (Messenger attachment, LINE originalContentUrl) may fetch it late or again: a longer life.
PLATFORM_URL_SECONDS = 7 * 24 * 3600


class Signer:
    """Signs and checks media URLs with a key derived from the auth secret (never the secret itself)."""

    def __init__(self, secret: bytes, clock=time.time, purpose: bytes = b"switchboard media url v1"):
        # A purpose-bound key: a media signature can never pass as a session token's, nor the reverse
        # (nor as a widget's upload URL, signed with its own purpose: connectors/webmessaging/uploads.py).
        self._key = hmac.new(secret, purpose, hashlib.sha256).digest()
        self.clock = clock

    def path(self, key: str, seconds: float) -> str:
        """`/media/{key}?exp=…&sig=…`, valid for `seconds` from now."""
        expires = int(self.clock() + seconds)
        return f"/media/{key}?exp={expires}&sig={self.sign(key, expires)}"

    def url(self, base_url: str, key: str, seconds: float) -> str:
        """The absolute signed URL under `base_url` (settings.public_url() for platforms)."""
        return base_url.rstrip("/") + self.path(key, seconds)

    def valid(self, key: str, exp: str | None, sig: str | None) -> bool:
        """Whether (exp, sig) is our signature of `key` and has not expired."""
        if not exp or not sig or not exp.isdigit():
            return False
        if not hmac.compare_digest(sig.encode(), self.sign(key, int(exp)).encode()):
            return False
        return int(exp) >= self.clock()

    def sign(self, key: str, expires: int) -> str:
        """The signature of `key` valid until `expires` (epoch seconds)."""
        return hmac.new(self._key, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()
