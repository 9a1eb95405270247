"""Against a secured broker (TLS + SASL) the topics and dlq commands, the test harness's Topics and
the ledger benchmark connect with the whole client configuration of the settings, not just
bootstrap.servers (issue 16). No broker is needed: the clients they would make are recorded."""
from __future__ import annotations

import pytest

from switchboard.cli import main
from switchboard.settings import load_settings

SECURED = {"SWITCHBOARD_KAFKA_BOOTSTRAP": "kafka-1.acme.internal:9094,kafka-2.acme.internal:9094",
           "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "SWITCHBOARD_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
           "SWITCHBOARD_KAFKA_SASL_USERNAME": "switchboard",
           "SWITCHBOARD_KAFKA_SASL_PASSWORD": "scram-password-from-the-vault"}


@pytest.fixture
def secured(monkeypatch, tmp_path) -> dict:
    """The settings of a SASL_SSL cluster with its own CA; the client configuration they give."""
    ca = tmp_path / "acme-kafka-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n(the cluster's CA: not read, no client connects here)\n"
                  "-----END CERTIFICATE-----\n")
    for name, value in {**SECURED, "SWITCHBOARD_KAFKA_SSL_CA_FILE": str(ca)}.items():
        monkeypatch.setenv(name, value)
    config = load_settings().kafka_client_config()
    assert {"sasl.mechanism", "sasl.username", "sasl.password", "ssl.ca.location"} <= set(config)
    return config


class Seen:
    """Records the client configuration each stand-in is given."""

    def __init__(self):
        self.configs = []

    def saw(self, config, *_, **__):
        self.configs.append(dict(config))


@pytest.fixture
def seen(monkeypatch) -> Seen:
    seen = Seen()
    monkeypatch.setattr("switchboard.kafka.require_broker", seen.saw)
    return seen


def test_topics_list_and_describe_on_the_broker_use_the_whole_client_configuration(secured, seen, monkeypatch, capsys):
    def list_topics(broker):
        seen.saw(broker)
        return ["inbound-messages"]

    def describe_topic(broker, name):
        seen.saw(broker)
        return {"name": name, "partitions": 6, "replication_factor": 3, "config": {}}
    monkeypatch.setattr("deploy.kafka.topics.list_topics", list_topics)
    monkeypatch.setattr("deploy.kafka.topics.describe_topic", describe_topic)
    assert main(["topics", "list", "--broker"]) == 0
    assert main(["topics", "describe", "inbound-messages", "--broker"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("inbound-messages\n") and '"replication_factor": 3' in out
    assert seen.configs == [secured] * 4   # the reachability probe, then the request, for each command


def test_topics_create_probes_and_creates_with_the_whole_client_configuration(secured, seen, monkeypatch, capsys):
    monkeypatch.setattr("deploy.kafka.topics.create_topics", lambda broker, topics, **kw: seen.saw(broker) or [])
    assert main(["topics", "create", "--replication-factor", "3", "--min-insync-replicas", "2"]) == 0
    assert seen.configs == [secured] * 2 and capsys.readouterr().out == "all topics exist\n"


class Offsets:
    """An admin client's answer to list_offsets: every dead-letter partition at offset 0."""

    def __init__(self, config, **_):
        self.config = config

    def list_offsets(self, wanted, request_timeout):
        return {tp: Done(0) for tp in wanted}


class Done:
    def __init__(self, offset: int):
        self.offset = offset

    def result(self):
        return self


class EmptyTopic:
    """A consumer of a dead-letter topic with nothing in it."""

    def __init__(self, config, group_id, **_):
        self.config = config

    def get_watermark_offsets(self, tp, timeout):
        return 0, 0

    def assign(self, partitions):
        assert partitions == []

    def position(self, partitions):
        return []

    def close(self):
        pass


def test_dlq_list_and_show_use_the_whole_client_configuration(secured, seen, monkeypatch, capsys):
    made = []
    monkeypatch.setattr("switchboard.dlq_cli.require_broker", seen.saw)
    monkeypatch.setattr("switchboard.dlq_cli.admin", lambda config: made.append(Offsets(config)) or made[-1])
    monkeypatch.setattr("switchboard.dlq_cli.consumer", lambda config, group: made.append(EmptyTopic(config, group)) or made[-1])
    assert main(["dlq", "list"]) == 0
    assert main(["dlq", "show", "inbound-messages-dlq"]) == 0
    out = capsys.readouterr().out
    assert "inbound-messages-dlq" in out and "(dead letters of inbound-messages)" in out
    assert seen.configs == [secured] * 2 and [type(m) for m in made] == [Offsets, EmptyTopic]
    assert [m.config for m in made] == [secured] * 2


def test_the_harness_topics_produce_and_read_with_a_secured_brokers_configuration(secured, monkeypatch):
    from schemas import Codec
    from switchboard import harness

    made = []

    class Client:
        def __init__(self, config, *_, **__):
            made.append(dict(config))

        def subscribe(self, names):
            pass

        def close(self):
            pass
    monkeypatch.setattr(harness, "producer", Client)
    monkeypatch.setattr(harness, "consumer", Client)
    topics = harness.Topics(secured, Codec())
    assert topics.collect("inbound-messages", "acme", done=lambda values: True) == []
    assert made == [secured, secured]
    assert harness.Topics("127.0.0.1:9092", Codec()).conf == {"bootstrap.servers": "127.0.0.1:9092"}   # the tests' callers


def test_the_ledger_benchmark_connects_with_the_settings_security_at_the_address_given(secured):
    from benchmarks.ledger_bench import bench_config

    assert bench_config(None) == secured
    assert bench_config("127.0.0.1:19094") == {**secured, "bootstrap.servers": "127.0.0.1:19094"}


def test_a_harness_worker_starts_its_group_with_the_childs_secured_configuration(secured, monkeypatch):
    from switchboard import harness

    for name in SECURED:   # the child's environment alone names the cluster
        monkeypatch.delenv(name)
    monkeypatch.delenv("SWITCHBOARD_KAFKA_SSL_CA_FILE")
    child = {**SECURED, "SWITCHBOARD_KAFKA_SSL_CA_FILE": secured["ssl.ca.location"]}
    started = []
    monkeypatch.setattr(harness, "start_group_at", lambda conf, group, since: started.append((conf, group)) or 0)
    monkeypatch.setattr(harness.subprocess, "Popen", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("no child here")))
    worker = harness.WorkerProcess(["switchboard", "worker"], child, group="switchboard-t1")
    with pytest.raises(RuntimeError, match="no child here"):
        worker.start()
    assert started == [(secured, "switchboard-t1")]
