"""Which pure function applies a record of each source topic, and with what subject and clock."""
from __future__ import annotations

from channels.registry import rules
from schemas import topic

from .assignments import on_assignment
from .config import ThreadingConfig
from .expiry import on_timeout
from .outbound import on_outbound
from .state import Step
from .threading import on_inbound


def _inbound(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    return on_inbound(state, value, partition=partition, window_ms=config.window_of(value["thread_key"]),
                      ttl_ms=config.ttl_ms)


def _assignment(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    return on_assignment(state, value, partition=partition, ttl_ms=config.ttl_ms)


def _outbound(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    # The policy's clock is the request's record time: a replay decides exactly as before.
    account = config.accounts.get(value["channel"], value["channel_account_id"])
    return on_outbound(state, value, account=account, rules=rules(value["channel"]), now=record_ms,
                       partition=partition, window_ms=config.window_of(value["thread_key"]), ttl_ms=config.ttl_ms)


def _timeout(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    return on_timeout(state, value, window_ms=config.window_of(value["thread_key"]), ttl_ms=config.ttl_ms,
                      grace_ms=config.grace_ms)


# Source topic -> the pure function of its records. All are keyed by thread key and co-partitioned
# (same partition count, same partitioner), so one agent serializes every change of a thread.
HANDLERS = {"inbound-messages": _inbound, "assignments": _assignment, "outbound-messages": _outbound,
            "conversation-timeouts": _timeout}
# Source topic -> the Avro subject of its values.
SUBJECTS = {topic(name).name: topic(name).value for name in HANDLERS}


def apply(source: str, state: dict | None, value: dict, *, partition: int, record_ms: int,
          config: ThreadingConfig) -> Step:
    """Apply one decoded record of `source`; `record_ms` is the record's Kafka timestamp."""
    return HANDLERS[source](state, value, partition=partition, record_ms=record_ms, config=config)
