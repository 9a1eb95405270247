"""The edge's app in-process, its publisher a recorder: edge behaviour without a broker (fast enough to fuzz)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from connectors.edge import INBOUND, make_app
from connectors.publisher import PublishError
from schemas import Codec
from switchboard.settings import load_settings
from tests.connectors.helpers import ACCOUNT_IDS, load_test_accounts

CODEC = Codec()
DLQ = INBOUND + "-dlq"


class Recorder:
    """Stands in for the edge's Publisher: keeps each all-or-nothing unit (or fails it, like a broker down)."""

    def __init__(self, fail: bool = False):
        self.units: list[list] = []
        self.fail = fail

    async def publish(self, records) -> None:
        if self.fail:
            raise PublishError("broker down")
        self.units.append(list(records))

    def records(self, topic: str | None = None) -> list:
        """Every published record (of `topic`), in order."""
        return [r for unit in self.units for r in unit if topic is None or r.topic == topic]

    def event_ids(self, subject: str = "inbound-message", topic: str = INBOUND) -> list[str]:
        """The event ids of the published `topic` records."""
        return [CODEC.decode(r.value, subject)["event_id"] for r in self.records(topic)]


async def start(tmp_path: Path, tenant: str, publisher: Recorder, **app_options) -> TestClient:
    """A started test client of an edge serving the test accounts of `tenant`."""
    app = make_app(load_settings(), load_test_accounts(tmp_path, tenant), publisher, CODEC, **app_options)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def path_of(channel: str) -> str:
    """The webhook path of the channel's test account."""
    return f"/webhooks/{channel}/{ACCOUNT_IDS[channel]}"


async def raw_post(client: TestClient, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """POST over a plain socket with header bytes exactly as given (aiohttp's client would refuse
    bytes that are not UTF-8); the answer's status code."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        head = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: edge", b"Connection: close",
                b"Content-Length: " + str(len(body)).encode()] + [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
