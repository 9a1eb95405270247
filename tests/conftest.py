"""Shared test setup: the real services a test run needs are started here, once per session."""
pytest_plugins = [
    "tests.kafka_fixture",
    "tests.registry_fixture",
    "tests.clickhouse_fixture",
    "tests.simulators_fixture",
    "tests.streams_fixture",
]
