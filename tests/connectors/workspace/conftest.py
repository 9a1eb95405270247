"""A workspace on the session broker (and the embedded ClickHouse), for a tenant of the test's own."""
from __future__ import annotations

import contextlib
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer
from confluent_kafka import Producer

from connectors.edge import make_app
from connectors.publisher import Publisher
from connectors.workspace import Workspace
from schemas import Codec, topic
from switchboard.accounts import Accounts
from switchboard.auth import Tokens, hash_password
from switchboard.directory import DirectoryView, DirectoryWriter
from switchboard.settings import load_settings

from tests.kafka_fixture import wait_until  # noqa: F401 (the workspace tests import it from here)

from .events import scenario

CODEC = Codec()
SECRET = b"workspace-tests-secret-of-at-least-32-bytes"


def produce_events(bootstrap: str, events: list[dict]) -> None:
    """agent-notifications records keyed by agent id, as routing writes them (murmur2)."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "enable.idempotence": True})
    for event in events:
        producer.produce(topic("agent-notifications").name, key=event["agent_id"].encode(),
                         value=CODEC.encode("agent-event", event))
    assert producer.flush(15) == 0


@pytest.fixture(scope="session")
def directory(kafka_bootstrap):
    """The directory view and writer of the session broker."""
    config = {"bootstrap.servers": kafka_bootstrap}
    view = DirectoryView(config, CODEC).start()
    view.wait_ready(60)
    writer = DirectoryWriter(config, CODEC)
    yield view, writer
    view.close()
    writer.close()


@pytest.fixture
def tenant_data(directory) -> dict:
    """A new tenant seeded into the directory with the fixture's people and routing."""
    view, writer = directory
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    data = scenario(tenant)
    for person_id, person in data["people"].items():
        body = {k: v for k, v in person.items() if k != "password"}
        writer.put(tenant, "person", person_id, {**body, "password_hash": hash_password(person["password"])}, "test")
    writer.put(tenant, "routing", "config", data["routing"], "test")
    writer.put(tenant, "canned_response", "greet", {"title": "Greeting", "text": "Hello! How can I help?",
                                                    "shortcut": "hi", "queue": None}, "test")
    wait_until(lambda: view.person(tenant, "root") and view.routing(tenant), what="the seeded directory")
    return {**data, "tenant": tenant}


@pytest.fixture
async def workspace_client(kafka_bootstrap, directory, clickhouse_store, tmp_path):
    """(TestClient of an edge with the workspace, the workspace)."""
    view, writer = directory
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)
    publisher = Publisher(settings.kafka_client_config(), transactional_id=None)
    workspace = Workspace(Tokens(SECRET, 3600), view, writer, lambda: clickhouse_store, publisher, CODEC,
                          settings.kafka_client_config())
    app = make_app(settings, Accounts([]), publisher, CODEC, workspace=workspace)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client, workspace
    await client.close()
    publisher.close()


@contextlib.asynccontextmanager
async def media_edge_client(kafka_bootstrap, directory, world, tmp_path, clickhouse=lambda: None):
    """A test client of an edge with the workspace and a media store whose fetcher reaches `world`'s platforms."""
    from connectors.media.edge import EdgeMedia
    from connectors.media.signing import Signer
    from connectors.media.store import DirectoryStore
    from tests.connectors.simulators.media_world import LIMIT

    view, writer = directory
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path)
    publisher = Publisher(settings.kafka_client_config(), transactional_id=None)
    workspace = Workspace(Tokens(SECRET, 3600), view, writer, clickhouse, publisher, CODEC, settings.kafka_client_config())
    media = EdgeMedia(DirectoryStore(tmp_path / "edge-media", LIMIT), Signer(SECRET), world.accounts, LIMIT, 300)
    client = TestClient(TestServer(make_app(settings, world.accounts, publisher, CODEC, workspace=workspace,
                                            media=media), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        publisher.close()
