"""Pytest plugin: a real Confluent-compatible schema registry (Apicurio, in memory) for the session.

Set SWITCHBOARD_TEST_SCHEMA_REGISTRY=<base URL> (e.g. http://127.0.0.1:8081/apis/ccompat/v7) to
use a running registry; otherwise a LocalSchemaRegistry is built (once, cached in <repo>/.cache;
the first build downloads ~230 MB into ~/.m2; in the background, after the browser tier, in a
session that will need it) and started on a free port, and stopped at the end of the session. A
registry that cannot be built or started fails the tests: nothing here skips.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from deploy.schema_registry import LocalSchemaRegistry
from tests.kafka_fixture import CACHE_DIR, free_port

ENV = "SWITCHBOARD_TEST_SCHEMA_REGISTRY"


_PREBUILD: dict[str, bool] = {}   # "wanted": the session will need the local registry; "started"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note whether the session will need the local registry (one of its tests asks for it)."""
    _PREBUILD["wanted"] = not os.environ.get(ENV) and any(
        "schema_registry_url" in getattr(item, "fixturenames", ()) for item in session.items)


def pytest_runtest_logstart(nodeid: str, location) -> None:
    """Build the registry, then the Java interop reader, in the background once the browser tier is
    done (its fault tier measures recovery under load, so no Maven build beside it): the builds
    (~30 s, ~3 min with an empty ~/.m2) then overlap the tests before the first registry test
    instead of adding to them. Each build holds a file lock, so the fixtures wait for it; a failed
    build is left for its fixture to repeat and report."""
    if not _PREBUILD.get("wanted") or _PREBUILD.get("started") or nodeid.startswith("tests/browser/"):
        return
    _PREBUILD["started"] = True
    from tests.interop.build import reader_command   # the Java interop reader, the registry's other Maven build

    def build() -> None:
        for step in (LocalSchemaRegistry(CACHE_DIR, 0).build, reader_command):
            try:
                step()
            except Exception:  # noqa: BLE001 - the fixture builds again and fails with the reason
                pass
    threading.Thread(target=build, name="maven-prebuild", daemon=True).start()


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
