"""The faust app every stream processor registers its agents and tables on.

Settings follow what was measured on this kind of machine (docs/architecture.md, "Pitfalls"):
RocksDB stores on a persistent data dir so a restart does not replay whole changelogs, no standby
replicas for a single worker, static membership and a short session timeout so a restarted worker
recovers in seconds, web server off, topics created from our catalogue rather than by faust.
"""
from __future__ import annotations

import faust

from schemas import topic as declared
from switchboard.settings import Settings, load_settings

APP_ID = "switchboard"

# Faust agents import `app` at module level; the worker configures it from settings before start.
app = faust.App(APP_ID, autodiscover=False, web_enabled=False, store="memory://",
                table_standby_replicas=0, topic_replication_factor=1,
                consumer_auto_offset_reset="earliest", broker_session_timeout=10.0,
                broker_heartbeat_interval=1.0, topic_allow_declare=False,
                producer_acks=-1, producer_linger=0.005, stream_wait_empty=False)


def configure(settings: Settings | None = None, *, worker_name: str = "worker-1",
              store: str = "rocksdb://") -> faust.App:
    """Point the app at the settings' broker and data dir; `memory://` store for tests."""
    from streams import recovery_order

    recovery_order.apply()  # seek before resuming after recovery: faust 0.15.3 lost records on restart
    settings = settings or load_settings()
    app.conf.broker = [f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")]
    app.conf.store = store
    app.conf.datadir = settings.data_dir / "streams" / worker_name
    app.conf.consumer_group_instance_id = f"{APP_ID}-{worker_name}"  # static membership
    return app


def raw_topic(name: str) -> faust.TopicT:
    """A catalogue topic as a faust channel of raw bytes (our codec decodes the Avro)."""
    t = declared(name)
    return app.topic(t.name, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=t.partitions, internal=False)
