"""The faust app every stream processor registers its agents and tables on.

Settings follow what was measured on this kind of machine (docs/architecture.md, "Pitfalls"):
RocksDB stores on a persistent data dir so a restart does not replay whole changelogs, no standby
replicas for a single worker, static membership and a short session timeout so a restarted worker
recovers in seconds, web server off, topics created from our catalogue rather than by faust.
"""
from __future__ import annotations

import faust

from schemas import topic as declared
from switchboard.kafka import faust_credentials
from switchboard.settings import Settings

APP_ID = "switchboard"

# Faust agents import `app` at module level; the worker configures it from settings before start.
app = faust.App(APP_ID, autodiscover=False, web_enabled=False, store="memory://",
                table_standby_replicas=0, topic_replication_factor=1,
                consumer_auto_offset_reset="earliest", broker_session_timeout=10.0,
                broker_heartbeat_interval=1.0, topic_allow_declare=False,
                producer_acks=-1, producer_linger=0.005, stream_wait_empty=False)


def configure(settings: Settings, *, worker_name: str = "worker-1", store: str = "rocksdb://") -> faust.App:
    """Point the app at the settings' broker and data dir; `memory://` store for tests."""
    from streams import recovery_order

    recovery_order.apply()  # seek before resuming after recovery: faust 0.15.3 lost records on restart
    app.conf.broker = [f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")]
    app.conf.broker_credentials = faust_credentials(settings.kafka_client_config())  # TLS, SASL as every client
    app.conf.store = store
    app.conf.datadir = settings.data_dir / "streams" / worker_name
    app.conf.consumer_group_instance_id = f"{APP_ID}-{worker_name}"  # static membership
    return app


def raw_topic(*names: str) -> faust.TopicT:
    """Catalogue topics as one faust channel of raw bytes (our codec decodes the Avro)."""
    topics = [declared(name) for name in names]
    return app.topic(*(t.name for t in topics), key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=topics[0].partitions, internal=False)


def raw_table(name: str, *, changelog: str, options: dict, help: str) -> faust.Table:  # noqa: A002
    """A table of raw bytes whose changelog is the catalogue topic `changelog` (same partitions).

    key_type/value_type bytes on the table itself (a `schema` argument is ignored there): with a
    RocksDB store the values are serialized, and only bytes pass through untouched.
    """
    log = raw_topic(changelog)
    return app.Table(name, key_type=bytes, value_type=bytes, changelog_topic=log,
                     partitions=declared(changelog).partitions, options=options, help=help)
