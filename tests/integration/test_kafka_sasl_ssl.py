"""Every role through a SASL_SSL listener, all configured by the same SWITCHBOARD_KAFKA_* settings.

A second local broker (not the session's) gets a SASL_SSL listener: a CA and a broker certificate
made here, SCRAM-SHA-512 credentials written by Kafka's own `kafka-storage format --add-scram`.
Its PLAINTEXT listener serves only its own readiness probe: every client here is given the secure
port alone. The edge publishes a signed webhook, the worker threads it, the sink writes its fact.
A third listener requires client certificates (mutual TLS), for both client libraries.
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy.kafka.broker import Listener, LocalKafka
from deploy.kafka.topics import describe_topic
from sink.client import connect
from switchboard.kafka import BrokerUnreachable, faust_credentials, require_broker, ssl_context
from switchboard.settings import ConfigError, Settings, load_settings
from tests.connectors.helpers import ACCOUNT_IDS, SECRETS, SIGNING, accounts_file, new_tenant, webhook
from tests.kafka_fixture import CACHE_DIR, free_port, wait_until
from tests.system_fixture import Role, _in_log, _listening

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
REPO = Path(__file__).resolve().parents[2]
MECHANISM, USER = "SCRAM-SHA-512", "switchboard"
JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


def _certificates(tmp: Path) -> dict[str, Path]:
    """A CA (ca.pem); a broker key and certificate for 127.0.0.1 and localhost signed by it, as the PEM
    keystore Kafka reads (broker.pem: key, certificate, CA); a client certificate and key signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key, issuer_key, *, ca: bool = False) -> x509.Certificate:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard test CA")]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    pem, keys = serialization.Encoding.PEM, [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    ca_key, broker_key, client_key = keys
    ca = certificate("Switchboard test CA", ca_key, ca_key, ca=True)
    key_bytes = [k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) for k in keys]
    files = {"ca": ca.public_bytes(pem),
             "broker": key_bytes[1] + certificate("127.0.0.1", broker_key, ca_key).public_bytes(pem) + ca.public_bytes(pem),
             "client": certificate("switchboard-client", client_key, ca_key).public_bytes(pem), "client-key": key_bytes[2]}
    for name, content in files.items():
        (tmp / f"{name}.pem").write_bytes(content)
    return {name: tmp / f"{name}.pem" for name in files}


@pytest.fixture(scope="module")
def brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, str]]]:
    """One broker with a SASL_SSL listener and a mutual-TLS one (client certificates required); the
    SWITCHBOARD_KAFKA_* environment of each ("sasl", "mtls")."""
    tmp = tmp_path_factory.mktemp("sasl-ssl")
    pems = _certificates(tmp)
    password, port, mtls_port = f"test-scram-{uuid.uuid4().hex}", free_port(), free_port()
    keystore = {"ssl.keystore.type": "PEM", "ssl.keystore.location": str(pems["broker"])}
    sasl = Listener("SECURE", "SASL_SSL", port, {f"listener.name.secure.{k}": v for k, v in keystore.items()} | {
        "listener.name.secure.sasl.enabled.mechanisms": MECHANISM,
        f"listener.name.secure.{MECHANISM.lower()}.sasl.jaas.config": JAAS})
    mtls = Listener("MTLS", "SSL", mtls_port, {f"listener.name.mtls.{k}": v for k, v in (keystore | {
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(pems["ca"]), "ssl.client.auth": "required"}).items()})
    broker = LocalKafka(CACHE_DIR, tmp / "kafka", port=free_port(), controller_port=free_port(),
                        listeners=(sasl, mtls), scram=(f"{MECHANISM}=[name={USER},password={password}]",))
    try:
        broker.start()
        yield {"sasl": {"SWITCHBOARD_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                        "SWITCHBOARD_KAFKA_SASL_MECHANISM": MECHANISM, "SWITCHBOARD_KAFKA_SASL_USERNAME": USER,
                        "SWITCHBOARD_KAFKA_SASL_PASSWORD": password, "SWITCHBOARD_KAFKA_SSL_CA_FILE": str(pems["ca"])},
               "mtls": {"SWITCHBOARD_KAFKA_BOOTSTRAP": f"127.0.0.1:{mtls_port}", "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL": "SSL",
                        "SWITCHBOARD_KAFKA_SSL_CA_FILE": str(pems["ca"]), "SWITCHBOARD_KAFKA_SSL_CERT_FILE": str(pems["client"]),
                        "SWITCHBOARD_KAFKA_SSL_KEY_FILE": str(pems["client-key"])}}
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def secured(brokers) -> dict[str, str]:
    """The SASL_SSL listener's SWITCHBOARD_KAFKA_* environment, which every client of the flow uses."""
    return brokers["sasl"]


def settings_of(env: dict[str, str], **more) -> Settings:
    """The settings a role started with `env` reads."""
    return Settings(**{k.removeprefix("SWITCHBOARD_").lower(): v for k, v in env.items()}, **more)


def switchboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "switchboard.cli", *args], cwd=REPO, env=os.environ | env,
                          capture_output=True, text=True, timeout=60)


def test_edge_worker_and_sink_run_the_flow_through_sasl_ssl(secured, tmp_path):
    created = switchboard(secured, "topics", "create", "--replication-factor", "1", "--min-insync-replicas", "1")
    assert created.returncode == 0, created.stderr
    config = settings_of(secured).kafka_client_config()
    assert describe_topic(config, "inbound-messages")["config"]["min.insync.replicas"] == "1"

    tenant, run = new_tenant(), uuid.uuid4().hex[:8]
    edge_port, sink_port = free_port(), free_port()
    env = os.environ | secured | {
        "SWITCHBOARD_DATA_DIR": str(tmp_path / "data"), "SWITCHBOARD_ACCOUNTS_FILE": str(accounts_file(tmp_path, tenant)),
        "SWITCHBOARD_EDGE_PORT": str(edge_port), "SWITCHBOARD_SINK_PORT": str(sink_port), "SWITCHBOARD_LOG_LEVEL": "INFO"}
    roles = [Role("sink", ["sink", "--group", f"sasl-sink-{run}"], env, tmp_path / "sink.log", ready=lambda r: _listening(sink_port)),
             # the conversation processor alone: it threads the message (fewer partitions to join, a faster start)
             Role("worker", ["worker", "--name", f"sasl-{run}", "--app-id", f"sasl-worker-{run}", "--expiry-interval", "1",
                             "--processors", "streams.conversations.agent"],
                  env, tmp_path / "worker.log", ready=lambda r: _in_log(r, "streams worker ready")),
             Role("edge", ["edge", "--port", str(edge_port), "--transactional-id", f"sasl-edge-{run}"], env,
                  tmp_path / "edge.log", ready=lambda r: _listening(edge_port))]
    try:
        for role in roles:   # all at once: each waits for the broker, not for the others
            role.start()
        for role in roles:
            role.wait_until(role.ready(role), timeout=90)   # a loaded machine is slow, not broken
        body = webhook("open", "text")
        header, render = SIGNING["open"]
        request = urllib.request.Request(f"http://127.0.0.1:{edge_port}/webhooks/open/{ACCOUNT_IDS['open']}", body,
                                         {header: render(SECRETS["open"].encode(), body), "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=15) as answer:
            assert answer.status == 200   # only once the broker acknowledged the publish (SASL_SSL)

        facts = connect(settings_of(secured, data_dir=tmp_path / "data", sink_port=sink_port))
        query = ("SELECT text, conversation_id FROM message_facts FINAL WHERE tenant_id = {t:String} "
                 "AND conversation_id IS NOT NULL")   # the conversation: the worker's, through the same broker
        rows = wait_until(lambda: facts.query(query, parameters={"t": tenant}).result_rows, 60, "the message fact")
        assert rows[0][0] == "My card was stolen, please block it"
    finally:
        for role in reversed(roles):
            role.stop()


def test_a_wrong_password_or_ca_is_refused_in_one_line(secured, tmp_path):
    wrong = secured | {"SWITCHBOARD_KAFKA_SASL_PASSWORD": "not-the-password"}
    listing = switchboard(wrong, "topics", "list", "--broker")
    assert listing.returncode == 1
    assert listing.stderr.startswith("switchboard: error: the broker at 127.0.0.1:") and \
        listing.stderr.count("\n") == 1 and "SWITCHBOARD_KAFKA_SASL_PASSWORD" in listing.stderr, listing.stderr
    other_ca = _certificates(tmp_path)["ca"]   # a CA that did not sign the broker's certificate
    with pytest.raises(BrokerUnreachable, match="TLS with the broker at .* failed .*certificate verify failed"):
        require_broker(settings_of(secured | {"SWITCHBOARD_KAFKA_SSL_CA_FILE": str(other_ca)}).kafka_client_config())
    require_broker(settings_of(secured).kafka_client_config())   # the right ones are let in


def test_mutual_tls_lets_a_client_certificate_in_for_both_clients_and_refuses_none(brokers):
    config = settings_of(brokers["mtls"]).kafka_client_config()
    require_broker(config)   # librdkafka, with the client certificate and key

    async def aiokafka_connects() -> None:   # as the faust worker's clients do, from the same config
        from aiokafka import AIOKafkaProducer
        from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

        producer = AIOKafkaProducer(bootstrap_servers=config["bootstrap.servers"],
                                    **credentials_to_aiokafka_auth(faust_credentials(config)))
        await producer.start()   # bootstraps: a TLS handshake with the client certificate, then metadata
        assert await producer.client.fetch_all_metadata() is not None
        await producer.stop()
    asyncio.run(aiokafka_connects())

    anonymous = {k: v for k, v in brokers["mtls"].items() if not k.endswith(("_CERT_FILE", "_KEY_FILE"))}
    with pytest.raises(BrokerUnreachable, match="TLS with the broker at .*alert bad certificate.*_CERT_FILE/_KEY_FILE"):
        require_broker(settings_of(anonymous).kafka_client_config())


def test_the_worker_gets_the_same_tls_and_sasl_as_librdkafka(tmp_path):
    ca = _certificates(tmp_path)["ca"]
    config = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-256",
                      kafka_sasl_username="u", kafka_sasl_password="p", kafka_ssl_ca_file=ca,
                      kafka_ssl_check_hostname=False).kafka_client_config()
    assert config["ssl.ca.location"] == str(ca) and config["ssl.endpoint.identification.algorithm"] == "none"
    credentials = faust_credentials(config)
    assert (credentials.protocol.value, credentials.mechanism.value, credentials.username, credentials.password) \
        == ("SASL_SSL", "SCRAM-SHA-256", "u", "p")
    assert credentials.ssl_context.check_hostname is False
    assert ssl_context(config).verify_mode.name == "CERT_REQUIRED"   # the certificate is still checked
    assert faust_credentials(Settings().kafka_client_config()) is None


@pytest.mark.parametrize("settings,fix", [
    ({"kafka_ssl_ca_file": "ca.pem"}, "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL=SSL"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_ca_file": "/nonexistent/ca.pem"}, "no such file"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_cert_file": "{ca}"}, "SWITCHBOARD_KAFKA_SSL_KEY_FILE"),
    ({"kafka_security_protocol": "SSL", "kafka_ssl_key_password": "k"}, "without a key"),
    ({"kafka_sasl_username": "u", "kafka_sasl_password": "p"}, "SASL_SSL"),
])
def test_settings_that_cannot_connect_are_one_line_naming_the_fix(tmp_path, settings, fix):
    ca = _certificates(tmp_path)["ca"]
    with pytest.raises(ConfigError) as refused:
        load_settings(**{k: v.format(ca=ca) for k, v in settings.items()})
    assert fix in str(refused.value) and "\n" not in str(refused.value)


def test_min_insync_above_the_replication_factor_is_refused():
    refused = switchboard({}, "topics", "create", "--replication-factor", "2", "--min-insync-replicas", "3")
    assert refused.returncode == 2
    assert refused.stderr == "switchboard: error: --min-insync-replicas 3 must be between 1 and --replication-factor (2)\n"
