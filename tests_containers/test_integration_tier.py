"""The integration tier against containers: the suite's broker and registry tests pointed at the
Kafka and registry containers (SWITCHBOARD_TEST_KAFKA, SWITCHBOARD_TEST_SCHEMA_REGISTRY), the
catalogue created on the broker, and the sink's migrations applied to a ClickHouse server."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deploy.kafka.topics import create_topics, list_topics
from schemas.catalogue import catalogue
from sink.client import connect
from sink.migrations import load_migrations, migrate
from sink.store import ServerStore
from switchboard.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
# The suite's tests that talk to a broker or a registry and start no broker of their own.
TIER = ["tests/integration/test_contract_roundtrip.py", "tests/deploy/test_topics_admin.py",
        "tests/schemas/test_confluent_wire_format.py"]


def test_the_suites_broker_and_registry_tests_pass_against_the_containers(kafka_container, registry_container):
    env = os.environ | {"SWITCHBOARD_TEST_KAFKA": kafka_container,
                        "SWITCHBOARD_TEST_SCHEMA_REGISTRY": registry_container}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TIER],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_the_catalogue_is_created_on_the_kafka_container(kafka_container):
    create_topics(kafka_container, catalogue().values())
    assert set(catalogue()) <= set(list_topics(kafka_container))
    assert create_topics(kafka_container, catalogue().values()) == []   # idempotent


def test_the_sink_migrations_apply_to_a_clickhouse_server_once(clickhouse_container):
    store = ServerStore(connect(load_settings(**clickhouse_container)))
    assert migrate(store) == [m.name for m in load_migrations()]
    assert migrate(store) == []
    tables = {row[0] for row in store.query("SHOW TABLES").result_rows}
    assert {"message_facts", "conversation_facts", "delivery_facts", "schema_migrations"} <= tables
