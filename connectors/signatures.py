"""Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time."""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable


def mac(secret: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data` (the one algorithm every supported platform uses)."""
    return hmac.new(secret, data, hashlib.sha256).digest()


def hex_sha256(secret: bytes, data: bytes) -> str:
    """`sha256=<hex>`, Meta's X-Hub-Signature-256."""
    return "sha256=" + mac(secret, data).hex()


def b64_sha256(secret: bytes, data: bytes) -> str:
    """`sha256=<base64>`, X's and Open Messaging's format."""
    return "sha256=" + base64.b64encode(mac(secret, data)).decode()


def b64(secret: bytes, data: bytes) -> str:
    """Bare base64 of the MAC, LINE's x-line-signature."""
    return base64.b64encode(mac(secret, data)).decode()


def matches(presented: str | None, secrets: Iterable[bytes], body: bytes,
            render: Callable[[bytes, bytes], str]) -> bool:
    """True when `presented` is the signature of `body` under any of `secrets` (rotation).

    Every secret is tried (no early exit on the first comparison) and each comparison is
    `hmac.compare_digest`, so timing says nothing about how close a forgery came.
    """
    if not presented:
        return False
    # aiohttp decodes header bytes as UTF-8 with surrogate escapes: a header that is not UTF-8 keeps
    # its bytes (and simply does not match) instead of raising.
    given = presented.strip().encode("utf-8", "surrogateescape")
    results = [hmac.compare_digest(given, render(secret, body).encode()) for secret in secrets]
    return any(results)
