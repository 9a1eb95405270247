"""Why a worker test lost messages: where the missing ones sit, and the group's committed offsets."""
from __future__ import annotations

import uuid

from confluent_kafka import TopicPartition

from schemas import Codec, DecodeError, topic
from switchboard.kafka import consumer

# Rebalance and recovery lines of the worker's log (faust logs dropped records only with DEVLOG=1).
LOG_MARKS = ("generation", "Revok", "assigned", "Recovery", "Seek", "ready", "Skipping", "rebalanc",
             "Rebalanc", "CRITICAL", "ERROR")


def positions(bootstrap: str, name: str, tenant: str) -> dict[str, tuple[int, int]]:
    """(partition, offset) of every record of `name` whose tenant_id is `tenant`, by event_id."""
    t, codec = topic(name), Codec()
    reader = consumer({"bootstrap.servers": bootstrap}, f"test-diag-{uuid.uuid4().hex}")
    ends = {p: reader.get_watermark_offsets(TopicPartition(t.name, p), timeout=5)[1] for p in range(t.partitions)}
    reader.assign([TopicPartition(t.name, p, 0) for p in range(t.partitions)])
    found, left = {}, {p for p, end in ends.items() if end > 0}
    try:
        while left:
            msg = reader.poll(5)
            if msg is None:
                break
            if msg.error() is None and msg.value():
                try:
                    value = codec.decode(msg.value(), t.value)
                except DecodeError:   # other tests' dead-letter cases
                    value = {}
                if value.get("tenant_id") == tenant:
                    found[value["event_id"]] = (msg.partition(), msg.offset())
                if msg.offset() + 1 >= ends[msg.partition()]:
                    left.discard(msg.partition())
    finally:
        reader.close()
    return found


def report(bootstrap: str, group: str, name: str, tenant: str, missing: set[str], log: list[str]) -> str:
    """Missing records per partition, committed vs end offsets of `group`, and the worker's rebalance log."""
    t, where = topic(name), positions(bootstrap, name, tenant)
    reader = consumer({"bootstrap.servers": bootstrap}, group)   # committed() only: never joins the group
    try:
        committed = reader.committed([TopicPartition(t.name, p) for p in range(t.partitions)], timeout=10)
        lines = [f"missing {len(missing)} records of {name}; group {group}:"]
        for tp in committed:
            low, end = reader.get_watermark_offsets(tp, timeout=5)
            lost = sorted(where[m][1] for m in missing if m in where and where[m][0] == tp.partition)
            lines.append(f"  partition {tp.partition}: committed {tp.offset}, end {end}, "
                         f"missing {len(lost)} at offsets {lost[:5]}{'...' if len(lost) > 5 else ''}")
    finally:
        reader.close()
    dropped = sum("DROPPED MESSAGE" in line for line in log)
    lines.append(f"faust dropped {dropped} records as already read (counted only when the worker ran with DEVLOG=1)")
    return "\n".join(lines + [line for line in log if any(mark in line for mark in LOG_MARKS)][-60:])
