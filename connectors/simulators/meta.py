"""What Messenger and WhatsApp share as Meta Graph API products: the hub.* URL check, the
signature, access tokens and the Graph error shape."""
from __future__ import annotations

from aiohttp import web

from .base import Platform, Reply, bearer
from .signing import meta_headers, meta_json

INVALID_TOKEN = "Invalid OAuth access token - Cannot parse access token"


def graph_error(platform: Platform, status: int, code: int, message: str, subcode: int | None = None,
                details: str | None = None, **extra) -> Reply:
    """Meta's error body: {"error": {message, type, code, error_subcode, fbtrace_id}}."""
    error = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:  # WhatsApp adds error_data (docs/channels/whatsapp.md, fixtures outbound/whatsapp)
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error.update(extra)
    error["fbtrace_id"] = platform.token(23)
    return Reply(status, {"error": error})


def access_token(request: web.Request) -> str | None:
    """Graph API tokens come as `access_token` query parameter or `Authorization: Bearer`."""
    return request.query.get("access_token") or bearer(request)


class MetaPlatform(Platform):
    """A Graph API product: Meta-serialized, hex-signed webhooks after a hub.* subscription check."""

    timeout = 20.0  # Meta waits 20 s for the answer (Messenger FAQ)

    def serialize(self, payload) -> bytes:
        return meta_json(payload)

    def sign(self, account, body: bytes) -> dict[str, str]:
        headers = meta_headers(account.app_secret.get_secret_value(), body)
        return headers | {"User-Agent": "facebookexternalua"}

    async def handshake(self, client, account) -> bool:
        """GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…: 200 with the challenge echoed."""
        challenge = self.digits(10)
        status, text = await client.get(self.channel, account.account_id, {
            "hub.mode": "subscribe", "hub.verify_token": account.verify_token.get_secret_value(),
            "hub.challenge": challenge})
        return status == 200 and text == challenge

    def bad_token(self) -> Reply:
        """Code 190 for a missing or invalid token (fixtures outbound/*/error_token: HTTP 401)."""
        return graph_error(self, 401, 190, INVALID_TOKEN)

    def bad_param(self, message: str, **kw) -> Reply:
        """Code 100, invalid parameter."""
        return graph_error(self, 400, 100, f"(#100) {message}", **kw)
