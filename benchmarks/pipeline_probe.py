"""The pipeline benchmark's reader: a process of its own that reads every hop's topic as it is written
and notes when each record became visible, so the load generator's event loop does not delay it.

From the end of each topic at start until stopped it reads, read_committed (what the roles see):
inbound-messages (the edge's acked publish), conversation-inputs (the conversation sequencer's
append), conversation-events (`message_added`: the record's timestamp is the processor's produce
time), routing-requests and agent-notifications (`offered`). Each observation is one tuple
(hop, id, seen at, record timestamp, conversation id) in a list returned through a pipe at stop;
`counts[0]` is the number of `message_added` seen so far, for the progress line and the drain;
`counts[1:3]` the bytes and number of inbound-messages values, for the baselines' record size.
"""
from __future__ import annotations

import multiprocessing as mp
import time
import uuid

from benchmarks.pipeline_baselines import WAIT_S
from schemas import Codec, topic

HOPS = {"inbound-messages": "inbound", "conversation-inputs": "sequenced", "conversation-events": "added",
        "routing-requests": "requested", "agent-notifications": "offered"}


def _assign_at_end(reader, names) -> None:
    from confluent_kafka import TopicPartition

    wanted = []
    for name in names:
        for p in range(topic(name).partitions):
            _, high = reader.get_watermark_offsets(TopicPartition(name, p), timeout=10)
            wanted.append(TopicPartition(name, p, high))
    reader.assign(wanted)


def _observe(msg, codec: Codec, sources: dict) -> tuple | None:
    """(hop, id, conversation id) of one record, or None when it is not one the benchmark follows."""
    hop = HOPS[msg.topic()]
    if hop == "sequenced":
        source = dict(msg.headers() or []).get("input.source", b"").decode()
        if source != "inbound-messages":
            return None
        return hop, codec.decode(msg.value(), sources[source])["platform_message_id"], None
    value = codec.decode(msg.value(), topic(msg.topic()).value)
    if hop == "inbound":
        return hop, value["platform_message_id"], None
    if hop == "added":
        if value["type"] != "message_added" or value.get("direction") != "inbound":
            return None
        return hop, value["platform_message_id"], value["conversation_id"]
    if hop == "requested":
        return hop, value["request_id"], value["conversation_id"]
    return (hop, value.get("offer_id"), value["conversation_id"]) if value["type"] == "offered" else None


def run(bootstrap: str, ready, stop, counts, out) -> None:
    """The probe's process body (see module docstring)."""
    from switchboard.kafka import consume_available, consumer

    codec = Codec()
    sources = {t: topic(t).value for t in ("inbound-messages",)}
    reader = consumer({"bootstrap.servers": bootstrap}, f"bench-probe-{uuid.uuid4().hex[:8]}",
                      **{"fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
    _assign_at_end(reader, list(HOPS))
    seen: list[tuple] = []
    ready.set()
    while not stop.is_set():
        for msg in consume_available(reader, 1000, WAIT_S):
            at = time.time()
            if msg.error() is not None or not msg.value():
                continue
            found = _observe(msg, codec, sources)
            if found is None:
                continue
            hop, ident, conversation = found
            seen.append((hop, ident, at, msg.timestamp()[1] / 1000, conversation))
            if hop == "added":
                counts[0] += 1
            elif hop == "inbound":
                counts[1] += len(msg.value())
                counts[2] += 1
    reader.close()
    out.send(seen)
    out.close()


class Probe:
    """Start the reader process, wait until it reads from the ends; `stop()` returns what it saw."""

    def __init__(self, bootstrap: str):
        context = mp.get_context("spawn")
        self.ready, self.halt = context.Event(), context.Event()
        self.counts = context.Array("l", 3)   # message_added seen, inbound bytes, inbound records
        self.pipe, child = context.Pipe(duplex=False)
        self.proc = context.Process(target=run, args=(bootstrap, self.ready, self.halt, self.counts, child), daemon=True)
        self.proc.start()
        if not self.ready.wait(60):
            raise AssertionError("the probe did not start reading within 60 s")

    @property
    def added(self) -> int:
        """message_added (inbound) seen so far."""
        return self.counts[0]

    @property
    def inbound_bytes(self) -> int:
        """The mean inbound-messages record value seen so far (bytes, uncompressed)."""
        return self.counts[1] // max(self.counts[2], 1)

    def stop(self) -> list[tuple]:
        """Stop reading; every observation."""
        self.halt.set()
        seen = self.pipe.recv()
        self.proc.join(10)
        return seen
