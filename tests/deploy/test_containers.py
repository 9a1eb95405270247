"""The Dockerfile, deploy/compose.yaml and deploy/kubernetes/ checked without a Docker engine or a
cluster (CI has neither, docs/deploy.md): compose against the Compose specification's JSON schema,
the manifests against Kubernetes 1.37's schemas, and both cross-checked against the code — env
names are settings, probed and published ports are the ones the roles listen on, commands are
`switchboard` subcommands, images pinned, Kafka the version the local broker runs."""
from __future__ import annotations

import copy
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from packaging.specifiers import SpecifierSet

from deploy.kafka.broker import kafka_version
from streams.routing.config import parse_config
from switchboard import cli
from switchboard.accounts import load_accounts
from switchboard.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
KUBERNETES = DEPLOY / "kubernetes"
COMPOSE_SCHEMA = REPO / "tests" / "fixtures" / "compose" / "compose-spec.json"
KUBERNETES_VERSION = "1.37.0"

SETTINGS = {f"SWITCHBOARD_{name.upper()}" for name in Settings.model_fields}
# A role that serves HTTP has a `<role>_port` setting (edge_port, sink_port): probes and published
# ports must use it. A role that gains one (worker, deliver) is then required to be probed.
ROLE_PORT_SETTING = {role: f"{role}_port" for role in cli.ROLES if f"{role}_port" in Settings.model_fields}
# Roles that keep local RocksDB state under the data dir (faust tables, the delivery ledger).
STATEFUL_ROLES = {"worker", "deliver"}


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def compose() -> dict:
    return copy.deepcopy(_compose())


@functools.cache
def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@functools.cache
def manifests() -> list[tuple[str, dict]]:
    """(file name, document) for every Kubernetes object in deploy/kubernetes/ (read once: never mutate)."""
    return [(path.name, doc) for path in sorted(KUBERNETES.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text()) if doc]


def workloads() -> list[dict]:
    return [doc for _, doc in manifests() if doc["kind"] in {"Deployment", "StatefulSet", "Job"}]


def containers(workload: dict) -> list[dict]:
    return workload["spec"]["template"]["spec"]["containers"]


def configmap(name: str) -> dict:
    return next(doc for _, doc in manifests() if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name)


def container_env(container: dict) -> dict[str, str | None]:
    """Every env name a container gets (envFrom ConfigMaps expanded); secrets' values as None."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= configmap(source["configMapRef"]["name"])["data"]
    env |= {item["name"]: item.get("value") for item in container.get("env", [])}
    return env


def role_port(role: str, env: dict) -> int | None:
    """The port `role` listens on given its environment; None for a role without an HTTP port."""
    setting = ROLE_PORT_SETTING.get(role)
    if setting is None:
        return None
    return int(env.get(f"SWITCHBOARD_{setting.upper()}") or Settings.model_fields[setting].default)


def switchboard_services() -> dict[str, dict]:
    return {name: svc for name, svc in compose()["services"].items() if svc["image"].startswith("switchboard:")}


def host_port(published: str) -> tuple[str, int, int]:
    """("127.0.0.1", host port, container port) from a compose short port syntax."""
    *ip, host, target = published.split(":")
    return (ip[0] if ip else "0.0.0.0", int(host), int(target))


def assert_switchboard_command(argv: list[str]) -> None:
    """`argv` is a real `switchboard` command line: a role and its flags, or a parser command."""
    if argv[0] in cli.ROLES:
        module = importlib.util.find_spec(cli.ROLES[argv[0]][0].split(":")[0])
        source = Path(module.origin).read_text()
        for flag in (arg for arg in argv[1:] if arg.startswith("--")):
            assert f'"{flag}"' in source, f"`switchboard {argv[0]}` has no option {flag}"
        return
    try:
        cli._build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"`switchboard {' '.join(argv)}` is not a switchboard command")


# --- Dockerfile -----------------------------------------------------------------------------------

def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def test_the_image_is_the_python_that_pyproject_requires():
    image = re.search(r"^ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim-bookworm$", dockerfile(), re.M)
    assert image, "the Dockerfile's base image is not ARG PYTHON_IMAGE=python:X.Y-slim-bookworm"
    requires = SpecifierSet(project()["requires-python"])
    assert requires.contains(image[1] + ".0"), f"python {image[1]} does not satisfy {requires}"
    # the lowest Python the project supports: what the image runs is what CI's floor is
    assert not requires.contains(f"3.{int(image[1].split('.')[1]) - 1}.99")


def test_the_image_runs_switchboard_as_a_non_root_user_with_settings_only():
    text = dockerfile()
    assert re.search(r'^ENTRYPOINT \["switchboard"\]$', text, re.M)
    user = re.search(r"^USER (\S+)$", text, re.M)
    assert user and user[1].split(":")[0] not in {"root", "0"}
    named = set(re.findall(r"\b(SWITCHBOARD_[A-Z_]+)=", text))
    assert named and named <= SETTINGS, f"unknown settings in the Dockerfile: {named - SETTINGS}"
    exposed = {int(p) for p in re.search(r"^EXPOSE (.+)$", text, re.M)[1].split()}
    assert exposed == {Settings.model_fields[s].default for s in ROLE_PORT_SETTING.values()}


def test_the_commands_the_dockerfile_names_are_switchboard_commands():
    text = dockerfile()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M)[1])
    assert cmd == ["--help"]
    usage = re.findall(r"^#\s+docker run --rm switchboard (\w+)", text, re.M)
    named = re.search(r"# or (.+), …", text)[1].split(", ")
    for argv in [usage, *(n.split() for n in named)]:
        assert_switchboard_command(argv)


def test_the_image_copies_every_package_pyproject_installs_and_the_context_has_them():
    copied = {source for line in dockerfile().splitlines() if line.startswith("COPY ") and "--from" not in line
              for source in line.split()[1:-1]}
    packages = {p.rstrip("*") for p in tomllib.loads((REPO / "pyproject.toml").read_text())
                ["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert copied == packages | {"pyproject.toml", "README.md"}
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") + 1:] and all(f"!{c}{'/' if c in packages else ''}" in ignore for c in copied)


def test_compose_checks_each_role_s_health_on_the_port_it_listens_on():
    """Every role serves /healthz on its own port (switchboard/observe.py), so compose checks each
    role that has one there, and the image (one for all roles) has no HEALTHCHECK."""
    assert '"/healthz"' in (REPO / "switchboard" / "observe.py").read_text()
    assert not re.search(r"^HEALTHCHECK ", dockerfile(), re.M)
    for name, svc in switchboard_services().items():
        listens = role_port(svc["command"][0], svc["environment"])
        probe = " ".join(svc.get("healthcheck", {}).get("test", []))
        if listens:
            assert f"http://127.0.0.1:{listens}/healthz" in probe, f"{name}: health-check /healthz on {listens}"
        else:
            assert not probe, f"{name} serves no HTTP port: nothing to health-check"


# --- compose ------------------------------------------------------------------------------------

def test_compose_follows_the_compose_specification():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=str)
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_compose_schema_rejects_what_compose_rejects():
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = compose()
    broken["services"]["edge"]["ports"] = [{"target": 8080, "published": "8080", "protocol": ["tcp"]}]
    broken["services"]["sink"]["restart_policy"] = "always"   # belongs under deploy:, not the service
    errors = jsonschema.Draft7Validator(schema).iter_errors(broken)
    assert {tuple(e.absolute_path)[:2] for e in errors} == {("services", "edge"), ("services", "sink")}


def test_compose_env_names_are_settings():
    for name, svc in compose()["services"].items():
        env = set(svc.get("environment", {}))
        unknown = {e for e in env if e.startswith("SWITCHBOARD_")} - SETTINGS
        assert not unknown, f"{name}: {unknown} are not settings (switchboard/settings.py)"
        if name in switchboard_services():
            assert env <= SETTINGS, f"{name}: {env - SETTINGS} are not settings"


def test_no_two_compose_services_publish_the_same_host_port():
    published = [(name, host_port(p)) for name, svc in compose()["services"].items() for p in svc.get("ports", [])]
    hosts = [(ip, port) for _, (ip, port, _) in published]
    assert len(hosts) == len(set(hosts)), sorted(published, key=lambda p: p[1][1])
    assert all(ip == "127.0.0.1" for ip, _ in hosts), "publish on the loopback only"
    clickhouse_ports = {port for name, (_, port, _) in published if name == "clickhouse"}
    assert Settings.model_fields["sink_port"].default not in clickhouse_ports


def test_each_compose_role_publishes_and_is_scraped_on_the_port_it_listens_on():
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    scraped = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    for name, svc in switchboard_services().items():
        listens = role_port(svc["command"][0], svc["environment"])
        targets = {host_port(p)[2] for p in svc.get("ports", [])}
        assert targets == ({listens} if listens else set()), f"{name} listens on {listens}, publishes {targets}"
        if listens:
            assert f"{name}:{listens}" in scraped, f"Prometheus does not scrape {name}:{listens}"
    assert {t.split(":")[0] for t in scraped} - {"localhost"} <= set(switchboard_services())


def test_compose_commands_are_switchboard_commands():
    for svc in switchboard_services().values():
        assert_switchboard_command(svc["command"])
    roles = {svc["command"][0] for svc in switchboard_services().values()}
    assert {"edge", "worker", "sink", "deliver"} <= roles


def test_compose_kafka_is_the_version_the_local_broker_runs():
    assert compose()["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version()}"


def test_compose_mounts_the_one_grafana_layout_as_it_is():
    grafana = compose()["services"]["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":") for v in grafana["volumes"])
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/switchboard.yaml").read_text())
    assert mounts == {"./grafana/provisioning/datasources": "/etc/grafana/provisioning/datasources",
                      "./grafana/provisioning/dashboards": "/etc/grafana/provisioning/dashboards",
                      "./grafana/dashboards": provider["providers"][0]["options"]["path"]}
    # the datasource file's 127.0.0.1:8123 is the ClickHouse server's, whose network Grafana shares
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/clickhouse.yaml").read_text())
    json_data = datasource["datasources"][0]["jsonData"]
    assert grafana["network_mode"] == "service:clickhouse"
    assert (json_data["host"], json_data["port"]) == ("127.0.0.1", 8123)
    readonly_user = compose()["configs"]["clickhouse-readonly-user"]["content"]
    assert f"<{json_data['username']}>" in readonly_user


def test_every_file_compose_mounts_exists():
    for name, svc in compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which does not exist"


def test_compose_references_only_what_it_declares():
    spec = compose()
    for name, svc in spec["services"].items():
        assert set(svc.get("depends_on", {})) <= set(spec["services"]) - {name}
        named = {v.split(":")[0] for v in svc.get("volumes", []) if not v.startswith(".")}
        assert named <= set(spec["volumes"]), f"{name}: undeclared volumes {named - set(spec['volumes'])}"
        assert {c["source"] for c in svc.get("configs", [])} <= set(spec.get("configs", {}))
        if "network_mode" in svc:
            assert svc["network_mode"].removeprefix("service:") in spec["services"]
            assert "ports" not in svc, f"{name} shares another service's network: publish its ports there"


# --- images (compose and Kubernetes) ---------------------------------------------------------------

def all_images() -> list[str]:
    return [svc["image"] for svc in compose()["services"].values()] + [
        c["image"] for w in workloads() for c in containers(w)]


def test_every_image_is_pinned():
    for image in all_images():
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{image} is not pinned to a version"
    ours = {i for i in all_images() if i.startswith("switchboard:")}
    assert ours == {f"switchboard:{project()['version']}"}


# --- Kubernetes ---------------------------------------------------------------------------------

def test_the_manifests_follow_the_kubernetes_schemas():
    for name, doc in manifests():
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_the_kubernetes_schemas_reject_a_broken_manifest():
    edge = next(w for w in workloads() if w["metadata"]["name"] == "switchboard-edge")
    broken = copy.deepcopy(edge)
    containers(broken)[0]["livenessProbe"]["httpGet"]["prot"] = 8080   # a typo, refused by strict
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def test_one_workload_per_role_stateful_where_the_role_keeps_rocksdb():
    kinds = {}
    for workload in workloads():
        [container] = containers(workload)
        assert_switchboard_command(container["args"])
        kinds[container["args"][0]] = workload["kind"]
    assert kinds == {"edge": "Deployment", "sink": "Deployment", "worker": "StatefulSet",
                     "deliver": "StatefulSet", "topics": "Job"}
    for workload in workloads():
        if workload["kind"] == "StatefulSet":
            [container] = containers(workload)
            claim = workload["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
            mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
            assert mounts[claim] == container_env(container)["SWITCHBOARD_DATA_DIR"]
            assert container["args"][0] in STATEFUL_ROLES


def test_manifest_env_names_are_settings():
    for workload in workloads():
        for container in containers(workload):
            env = set(container_env(container))
            assert env <= SETTINGS, f"{workload['metadata']['name']}: {env - SETTINGS} are not settings"


def test_probes_and_services_use_the_port_each_role_listens_on():
    services = [doc for _, doc in manifests() if doc["kind"] == "Service"]
    for workload in (w for w in workloads() if w["kind"] != "Job"):
        [container] = containers(workload)
        listens = role_port(container["args"][0], container_env(container))
        named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        assert set(named.values()) == ({listens} if listens else set())
        probes = {k: container[k]["httpGet"] for k in ("livenessProbe", "readinessProbe") if k in container}
        if listens:
            assert {k: p["path"] for k, p in probes.items()} == {"livenessProbe": "/healthz",
                                                                  "readinessProbe": "/readyz"}
        for probe in probes.values():
            assert named.get(probe["port"], probe["port"]) == listens
        labels = workload["spec"]["template"]["metadata"]["labels"]
        for service in services:
            if service["spec"]["selector"].items() <= labels.items():
                for port in service["spec"].get("ports", []):
                    assert named.get(port["targetPort"], port["targetPort"]) == listens


def test_secrets_are_referenced_by_name_only():
    assert not [doc for _, doc in manifests() if doc["kind"] == "Secret"]
    for workload in workloads():
        for container in containers(workload):
            for item in container.get("env", []):
                assert "valueFrom" in item or not item["name"].endswith(("_SECRET", "_PASSWORD")), item
    assert not [k for k in configmap("switchboard-env")["data"] if k.endswith(("_SECRET", "_PASSWORD"))]


def test_every_container_requests_resources():
    for workload in workloads():
        for container in containers(workload):
            requests = container.get("resources", {}).get("requests", {})
            assert {"cpu", "memory"} <= set(requests), f"{workload['metadata']['name']} requests {requests}"


def test_the_config_maps_hold_a_valid_accounts_file_and_routing(tmp_path, monkeypatch):
    text = configmap("switchboard-accounts")["data"]["accounts.yaml"]
    for name in re.findall(r"\$\{(\w+)\}", text):
        monkeypatch.setenv(name, f"test-{name.lower()}")
    (tmp_path / "accounts.yaml").write_text(text)
    accounts = load_accounts(tmp_path / "accounts.yaml")
    assert {a.channel for a in accounts} == {"messenger", "whatsapp"}
    for file, routing in configmap("switchboard-routing")["data"].items():
        assert parse_config(routing, file.removesuffix(".yaml"), file).default_queue


def test_workloads_mount_the_config_maps_where_the_settings_point():
    for workload in (w for w in workloads() if w["kind"] != "Job"):
        [container] = containers(workload)
        env = container_env(container)
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}
        for mount in container["volumeMounts"]:
            config = volumes.get(mount["name"], {}).get("configMap", {}).get("name")
            if config == "switchboard-accounts":
                assert mount["mountPath"] == env["SWITCHBOARD_ACCOUNTS_FILE"]
                assert {"secretRef": {"name": "switchboard-channel-secrets"}} in container["envFrom"]
            if config == "switchboard-routing":
                assert mount["mountPath"] == env["SWITCHBOARD_ROUTING_DIR"]


# --- make test-containers on a machine without a Docker engine -----------------------------------

def test_the_container_tier_fails_at_once_without_a_docker_engine(tmp_path):
    env = os.environ | {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests_containers"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert time.monotonic() - started < 15
    errors = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("ERROR:")]
    expected = "no Docker engine" if importlib.util.find_spec("docker") else "pip install testcontainers==4.15.0"
    assert len(errors) == 1 and expected in errors[0], run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
