"""Kafka clients configured the one way Switchboard uses them (confluent-kafka / librdkafka)."""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import uuid
from functools import partial

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from .errors import Unavailable

log = logging.getLogger("switchboard.kafka")
# librdkafka's own log lines (connection refused, broker down…) go through Python logging under this
# name instead of straight to stderr: a service shows them in its log format, and a command that
# fails because Kafka is down prints its one-line error alone (switchboard.cli quiets this logger).
CLIENT_LOG = logging.getLogger("switchboard.kafka.client")

# acks=all + idempotence: a record acknowledged by the broker is durable and never duplicated by
# the producer's own retries. A short linger batches bursts without adding visible latency.
# murmur2_random: the Java client's (and faust's) partitioner, so a key written here lands in the
# same partition as when faust writes it — a tenant's routing state must live in one partition.
PRODUCER_DEFAULTS = {"enable.idempotence": True, "acks": "all", "linger.ms": 5,
                     "compression.type": "lz4", "message.timeout.ms": 30000,
                     "partitioner": "murmur2_random"}
# Offsets are committed by the application after it has processed (and produced) a record.
CONSUMER_DEFAULTS = {"enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "isolation.level": "read_committed"}


def as_client_config(broker: str | dict) -> dict:
    """A broker given as a bootstrap address (the local PLAINTEXT broker) or as the whole client
    configuration (`Settings.kafka_client_config()`: TLS and SASL included), as a client configuration."""
    return {"bootstrap.servers": broker} if isinstance(broker, str) else dict(broker)


def producer(client_config: dict, **overrides) -> Producer:
    """An idempotent, acks=all producer."""
    return Producer({**PRODUCER_DEFAULTS, "logger": CLIENT_LOG, **client_config, **overrides})


def consumer(client_config: dict, group_id: str, **overrides) -> Consumer:
    """A consumer that commits only what the application says it has processed."""
    return Consumer({**CONSUMER_DEFAULTS, "logger": CLIENT_LOG, **client_config, "group.id": group_id, **overrides})


def consume_available(c, limit: int, timeout: float) -> list:
    """Up to `limit` records (or events): waits up to `timeout` for the first, then takes only what has
    already been fetched. confluent-kafka's `consume(limit, timeout)` (2.16) returns early only with a
    full batch, so a loop over it waits its whole timeout per batch when traffic is light (measured:
    10 records spread over 1 s came back together after `consume(500, 1.0)`). Works on any object
    with `consume` (the counting wrapper of switchboard/observe.py too)."""
    first = c.consume(1, timeout)
    return first + c.consume(limit - 1, 0) if first and limit > 1 else first


def admin(client_config: dict, **overrides) -> AdminClient:
    """An admin client whose librdkafka log lines go to CLIENT_LOG, like the producers' and consumers'."""
    return AdminClient({"logger": CLIENT_LOG, **client_config, **overrides})


def ssl_context(client_config: dict) -> ssl.SSLContext:
    """The TLS context of `client_config`'s ssl.* settings, for clients that are not librdkafka (aiokafka).

    As librdkafka reads them: a CA file replaces the system's CAs, the broker's certificate is always
    verified, and only the hostname check can be turned off.
    """
    context = ssl.create_default_context(cafile=client_config.get("ssl.ca.location"))
    if client_config.get("ssl.certificate.location"):
        context.load_cert_chain(client_config["ssl.certificate.location"], client_config.get("ssl.key.location"),
                                client_config.get("ssl.key.password"))
    context.check_hostname = client_config.get("ssl.endpoint.identification.algorithm", "https") != "none"
    return context


def faust_credentials(client_config: dict):
    """`client_config`'s security settings as faust's broker_credentials (None for PLAINTEXT).

    faust hands them to every aiokafka producer and consumer it makes (faust/transport/drivers/
    aiokafka.py, credentials_to_aiokafka_auth): the worker connects exactly as the other roles do.
    """
    import faust

    protocol = client_config.get("security.protocol", "PLAINTEXT")
    context = ssl_context(client_config) if protocol.endswith("SSL") else None
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(username=client_config["sasl.username"], password=client_config["sasl.password"],
                                     mechanism=client_config["sasl.mechanism"], ssl_context=context)
    return faust.SSLCredentials(context) if context else None


# A command asks whether the broker answers before it starts, and says so in one line when it does not:
# within this many seconds, not after librdkafka's retries for the whole request timeout.
REACH_TIMEOUT_S = 5.0
PROBE_SLICE_S = 0.5
_SILENT = logging.getLogger("switchboard.kafka.probe")   # a probe's failure is its one-line error
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False


class BrokerUnreachable(Unavailable):
    """The configured brokers do not answer (or refuse the connection's security settings)."""


def require_broker(client_config: dict, timeout: float = REACH_TIMEOUT_S) -> None:
    """Return once a broker answers a metadata request; BrokerUnreachable naming the fix otherwise."""
    bootstrap = client_config["bootstrap.servers"]
    down = (f"the broker at {bootstrap} is not reachable ({timeout:.0f} s): start it with "
            "`switchboard kafka start` or set SWITCHBOARD_KAFKA_BOOTSTRAP")
    if not any(_accepts(address, timeout) for address in bootstrap.split(",")):
        raise BrokerUnreachable(down)   # refused at once: no need to wait for librdkafka's retries
    # A refused TLS handshake or SASL login reaches the error callback (served by poll()), while the
    # request only fails with a transport error: so ask in short slices, and say the refusal at once.
    seen: list[KafkaError] = []
    probe = AdminClient({**client_config, "logger": _SILENT, "log_level": 0, "error_cb": seen.append,
                         "socket.connection.setup.timeout.ms": int(timeout * 1000)})
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe.list_topics(timeout=max(0.1, min(PROBE_SLICE_S, deadline - time.monotonic())))
            return
        except KafkaException as exc:
            probe.poll(0)
            fix = next((fix for fix in map(partial(_refusal, bootstrap), (*seen, exc.args[0])) if fix), None)
            if fix or time.monotonic() >= deadline:
                raise BrokerUnreachable(fix or down) from None


def _accepts(address: str, timeout: float) -> bool:
    """True if a TCP connection to `host:port` opens within `timeout` (a broker may still refuse us)."""
    host, _, port = address.strip().split("://")[-1].rpartition(":")   # librdkafka allows PROTOCOL://host:port
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def _refusal(bootstrap: str, error: KafkaError) -> str | None:
    """The one-line fix for a broker that answered TCP but refused TLS or SASL; None for anything else."""
    if error.code() in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED):
        return (f"the broker at {bootstrap} refused the credentials ({error.str()}): check "
                "SWITCHBOARD_KAFKA_SASL_MECHANISM, SWITCHBOARD_KAFKA_SASL_USERNAME and SWITCHBOARD_KAFKA_SASL_PASSWORD")
    # A broker that wants a client certificate answers with a TLS alert once the handshake is done
    # (TLS 1.3): librdkafka reports that as a transport error carrying OpenSSL's reason.
    if error.code() == KafkaError._SSL or (error.code() == KafkaError._TRANSPORT and "SSL routines" in error.str()):
        return (f"TLS with the broker at {bootstrap} failed ({error.str()}): check "
                "SWITCHBOARD_KAFKA_SECURITY_PROTOCOL and SWITCHBOARD_KAFKA_SSL_CA_FILE (and _CERT_FILE/_KEY_FILE "
                "if the broker requires a client certificate)")
    return None


# Commit errors of a group coordinator that moved or is loading (a broker restart, a leader change).
TRANSIENT_COMMIT_ERRORS = frozenset(getattr(KafkaError, name) for name in (
    "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT",
    "REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "_TIMED_OUT", "_TRANSPORT", "_ALL_BROKERS_DOWN"))


def commit_or_defer(consumer: Consumer) -> bool:
    """Commit the consumer's positions (synchronously); False when a coordinator moving refused it.

    Not fatal: what the positions cover is done, so the next batch's commit covers these offsets too
    (a crash before it replays them, and replays are absorbed). Any other commit error is raised.
    """
    try:
        consumer.commit(asynchronous=False)
        return True
    except KafkaException as exc:
        error = exc.args[0]
        if error.fatal() or error.code() not in TRANSIENT_COMMIT_ERRORS:
            raise
        log.warning("commit deferred to the next batch: %s", error)
        return False


class TopicFollower:
    """A background reader of every partition of one topic from its beginning (or its end), then live.

    No consumer group: each process that follows a topic (the directory, agent-notifications, the
    widget's guest events) must see all of it. `on_batch(messages)` gets each batch of records
    (errors left out) on the follower's thread; `ready` is set once every partition has reached
    the end it had at start. `from_end`: only what arrives after the start (a live feed).
    """

    def __init__(self, client_config: dict, topic_name: str, partitions: int, on_batch, *, batch: int = 500,
                 from_end: bool = False):
        self.client_config, self.topic_name, self.partitions = client_config, topic_name, partitions
        self.on_batch, self.batch = on_batch, batch
        self.start_offset = OFFSET_END if from_end else OFFSET_BEGINNING
        self.ready, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"follow-{topic_name}", daemon=True)

    def start(self) -> "TopicFollower":
        """Begin reading."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        c = consumer(self.client_config, f"follow-{self.topic_name}-{uuid.uuid4().hex[:8]}",
                     **{"enable.partition.eof": True})
        c.assign([TopicPartition(self.topic_name, p, self.start_offset) for p in range(self.partitions)])
        at_end: set[int] = set()
        try:
            while not self._stop.is_set():
                records = []
                for m in consume_available(c, self.batch, 0.2):
                    if m.error() is None:
                        records.append(m)
                    elif m.error().code() == KafkaError._PARTITION_EOF:   # caught up on this partition
                        at_end.add(m.partition())
                if records:
                    self.on_batch(records)
                if len(at_end) == self.partitions:
                    self.ready.set()
        except Exception:
            log.exception("following %s stopped", self.topic_name)
            raise
        finally:
            c.close()


def read_range(client_config: dict, topic_name: str, partition: int, start: int, end: int | None = None,
               timeout: float = 10.0) -> list:
    """The committed records of one partition with start <= offset < end (end: the partition's end now).

    Stops at the consumer's position, not at the last record seen, so transaction markers (which
    take offsets but are never returned) cannot keep it waiting.
    """
    c = consumer(client_config, f"read-range-{uuid.uuid4().hex[:8]}")
    tp = TopicPartition(topic_name, partition)
    try:
        if end is None:
            end = c.get_watermark_offsets(tp, timeout=timeout)[1]
        if start >= end:
            return []
        c.assign([TopicPartition(topic_name, partition, start)])
        found, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            found += [m for m in consume_available(c, 500, 0.2) if m.error() is None and m.offset() < end]
            if c.position([tp])[0].offset >= end:
                return found
        log.warning("reading %s-%d from %d to %d stopped after %.0f s", topic_name, partition, start, end, timeout)
        return found
    finally:
        c.close()
