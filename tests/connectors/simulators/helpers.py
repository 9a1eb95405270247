"""Small helpers shared by the simulator tests."""
import base64
import hashlib
import hmac

from tests.simulators_fixture import FIXTURES, load_fixture

MARIA = {"messenger": "6523409871234567", "whatsapp": "14155550123", "line": "U1a2b3c4d5e6f708192a3b4c5d6e7f809",
         "x": "987654321012345678", "open": "maria@example.com"}
KENJI_LINE = "U8f7e6d5c4b3a29180716f5e4d3c2b1a0"
TOKENS = {"messenger": "demo-messenger-page-token", "whatsapp": "demo-whatsapp-system-user-token",
          "line": "demo-line-channel-access-token", "x": "demo-x-user-access-token"}
HOUR = 3600


def auth(channel: str) -> dict:
    """The Authorization header with the account's demo token."""
    return {"Authorization": f"Bearer {TOKENS[channel]}"}


def outbound(path: str):
    """An outbound request or response fixture (tests/fixtures/outbound/<path>.json)."""
    return load_fixture(f"outbound/{path}.json")


def outbound_bytes(path: str) -> bytes:
    """An outbound fixture's stored bytes."""
    return (FIXTURES / "outbound" / f"{path}.json").read_bytes()


async def customer_writes(client, channel: str, customer: str, kind: str = "text") -> dict:
    """Make a pool customer write through the control API (opens the platform's window)."""
    response = await client.post(f"/_sim/{channel}/customers/messages", json={"customer": customer, "kind": kind})
    assert response.status == 200, await response.text()
    return await response.json()


async def advance(client, seconds: float) -> None:
    """Move the simulators' clock forward."""
    assert (await client.post("/_sim/clock", json={"advance_seconds": seconds})).status == 200


def error_shape(body: dict) -> tuple:
    """The parts of a Graph error that matter: keys, code and subcode."""
    error = body["error"]
    return frozenset(error), error["code"], error.get("error_subcode")


def b64_mac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def hex_mac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
