"""Pytest plugin: a real Confluent-compatible schema registry (Apicurio, in memory) for the session.

Set SWITCHBOARD_TEST_SCHEMA_REGISTRY=<base URL> (e.g. http://127.0.0.1:8081/apis/ccompat/v7) to
use a running registry; otherwise a LocalSchemaRegistry is built (once, cached in <repo>/.cache;
the first build downloads ~230 MB into ~/.m2) and started on a free port, and stopped at the end
of the session. A registry that cannot be built or started fails the tests: nothing here skips.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from deploy.schema_registry import LocalSchemaRegistry
from tests.kafka_fixture import CACHE_DIR, free_port

ENV = "SWITCHBOARD_TEST_SCHEMA_REGISTRY"


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    """Base URL of the registry's Confluent-compatible API (global compatibility BACKWARD)."""
    if os.environ.get(ENV):
        yield os.environ[ENV].rstrip("/")
        return
    registry = LocalSchemaRegistry(CACHE_DIR, free_port())
    try:
        yield registry.start(timeout=120)
    finally:
        registry.stop()
