"""Shared test setup: the real services a test run needs are started here, once per session."""
import os

# Several workers and delivers run at once (the harness's, the system fixture's): each serves its
# /metrics and health on any free port rather than all on 8082 / 8083 (switchboard/observe.py).
os.environ.setdefault("SWITCHBOARD_WORKER_PORT", "0")
os.environ.setdefault("SWITCHBOARD_DELIVER_PORT", "0")
pytest_plugins = [
    "tests.kafka_fixture",
    "tests.registry_fixture",
    "tests.clickhouse_fixture",
    "tests.simulators_fixture",
    "tests.streams_fixture",
]
