"""The container tier (`make test-containers`): the integration tier against Kafka, a ClickHouse
server and the schema registry in Docker containers, started through testcontainers. It is not
under tests/, so `make test` never collects it; CI has no Docker engine and never runs it.

Before anything is collected the Docker engine is asked once; without one (or without the
testcontainers package) the run stops at once with a one-line reason: never a silent pass.
The images are the ones deploy/compose.yaml pins (read from it, so the two cannot drift).
"""
from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from switchboard.harness import free_ports

PIN = "testcontainers==4.15.0"
COMPOSE = Path(__file__).resolve().parents[1] / "deploy" / "compose.yaml"
STARTUP_S = 180   # a first run pulls the images


def engine_problem() -> str | None:
    """Why no container can start here (one line naming the fix), or None when the engine answers."""
    try:
        import docker
        import testcontainers  # noqa: F401
    except ImportError:
        return f"the container tier needs testcontainers: pip install {PIN} (make test-containers)"
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        docker.from_env(timeout=5).ping()
    except Exception as exc:   # DockerException, or requests'/urllib3's errors underneath it
        reason = " ".join(str(exc).split())[:160]
        return (f"no Docker engine answers at {where} ({reason}): start Docker or set DOCKER_HOST "
                "(the container tier cannot run without one)")
    return None


def pytest_configure(config: pytest.Config) -> None:
    problem = engine_problem()
    if problem:
        raise pytest.UsageError(problem)


def image(service: str) -> str:
    """The image deploy/compose.yaml pins for `service`."""
    return yaml.safe_load(COMPOSE.read_text())["services"][service]["image"]


@pytest.fixture(scope="session")
def kafka_container() -> Iterator[str]:
    """Bootstrap address of a single-node KRaft broker (the compose file's image and settings)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    port = free_ports(1)[0]   # fixed up front: the broker must advertise the port clients reach
    container = DockerContainer(image("kafka")).with_bind_ports(9092, port)
    host = container.get_container_host_ip()
    env = yaml.safe_load(COMPOSE.read_text())["services"]["kafka"]["environment"]
    env |= {"KAFKA_LISTENERS": "INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093",
            "KAFKA_ADVERTISED_LISTENERS": f"INTERNAL://localhost:19092,EXTERNAL://{host}:{port}"}
    container.with_envs(**{k: str(v) for k, v in env.items()})
    container.waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(STARTUP_S))
    with container:
        yield f"{host}:{port}"


@pytest.fixture(scope="session")
def clickhouse_container() -> Iterator[dict]:
    """A ClickHouse server's URL and the roles' user (the compose file's image)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    user, password = "switchboard", "container-tier"
    container = (DockerContainer(image("clickhouse")).with_exposed_ports(8123)
                 .with_envs(CLICKHOUSE_USER=user, CLICKHOUSE_PASSWORD=password,
                            CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT="1"))
    container.waiting_for(HttpWaitStrategy(8123, "/ping").with_startup_timeout(STARTUP_S))
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8123)}"
        yield {"clickhouse_url": url, "clickhouse_user": user, "clickhouse_password": password}


@pytest.fixture(scope="session")
def registry_container() -> Iterator[str]:
    """Base URL of the registry's Confluent-compatible API, global compatibility BACKWARD."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    api = "/apis/ccompat/v7"
    container = DockerContainer(image("schema-registry")).with_exposed_ports(8080)
    container.waiting_for(HttpWaitStrategy(8080, f"{api}/subjects").with_startup_timeout(STARTUP_S))
    with container:
        base = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8080)}{api}"
        request = urllib.request.Request(f"{base}/config", method="PUT",
                                         data=json.dumps({"compatibility": "BACKWARD"}).encode(),
                                         headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
        urllib.request.urlopen(request, timeout=10).close()   # Apicurio's default is NONE
        yield base
