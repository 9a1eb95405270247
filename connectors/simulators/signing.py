"""How each platform serializes and signs what it sends: one place for every HMAC the simulators make.

Written from the platforms' documentation (docs/channels/*.md), independently of the connectors'
verifiers, so the two cross-check each other.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

# Meta signs the body exactly as it sends it: ASCII only, non-ASCII as lowercase \uXXXX (emoji as
# surrogate pairs), and `/ < % @` escaped as `\/ \u003C \u0025 \u0040` (docs/channels/verified-facts.md).
_META_ESCAPES = str.maketrans({"/": "\\/", "<": "\\u003C", "%": "\\u0025", "@": "\\u0040"})


def meta_json(payload) -> bytes:
    """Compact JSON the way Meta serializes webhook bodies (the bytes its signature covers)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).translate(_META_ESCAPES).encode()


def utf8_json(payload) -> bytes:
    """Compact raw UTF-8 JSON, as LINE, X and Open Messaging integrations send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def hex_hmac(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 (Meta's X-Hub-Signature-256)."""
    return _mac(secret, message).hex()


def b64_hmac(secret: str, message: bytes) -> str:
    """Base64 HMAC-SHA256 (LINE, X, Open Messaging)."""
    return base64.b64encode(_mac(secret, message)).decode()


def meta_headers(app_secret: str, body: bytes) -> dict[str, str]:
    """Messenger / WhatsApp: `X-Hub-Signature-256: sha256=<hex>` (plus the legacy SHA-1 header Meta still sends)."""
    sha1 = hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={hex_hmac(app_secret, body)}", "X-Hub-Signature": f"sha1={sha1}"}


def line_headers(channel_secret: str, body: bytes) -> dict[str, str]:
    """LINE: `x-line-signature: base64(HMAC-SHA256(channel secret, body))`."""
    return {"x-line-signature": b64_hmac(channel_secret, body)}


def x_headers(consumer_secret: str, body: bytes) -> dict[str, str]:
    """X Account Activity: `x-twitter-webhooks-signature: sha256=<base64>`."""
    return {"x-twitter-webhooks-signature": f"sha256={b64_hmac(consumer_secret, body)}"}


def open_headers(secret: str, body: bytes) -> dict[str, str]:
    """Open Messaging: `X-Hub-Signature-256: sha256=<base64>` (base64, unlike Meta's hex)."""
    return {"X-Hub-Signature-256": f"sha256={b64_hmac(secret, body)}"}


def x_crc_response(consumer_secret: str, crc_token: str) -> str:
    """The `response_token` X expects back from a CRC check."""
    return f"sha256={b64_hmac(consumer_secret, crc_token.encode())}"


def open_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether an Open Messaging outbound request carries our integration's signature (constant time)."""
    return header is not None and hmac.compare_digest(header.encode(), open_headers(secret, body)["X-Hub-Signature-256"].encode())
