"""One input log per stateful processor: records of several topics, appended in one order.

A processor that reads several topics (the conversation processor: four; routing: three) gets
their records in fetch order, which Kafka does not fix between topics: a replay after a crash
could apply a thread's or a domain's records in another order than the first time and decide
differently under ids already announced (an outbound approved the second time that was rejected
the first, an offer id given to another agent). So a sequencer appends every input record,
unchanged — key, Avro bytes, headers, timestamp, partition — to the processor's input log, with
the source topic in header `input.source`, and the processor reads only that log: the order is
decided once, and every replay applies the same records in the same order. The sequencer's own
replays append duplicates later in the log, which the processors drop by the record's id.

A processor may re-key its inputs (`bind(wiring, keys=...)`): routing appends a tenant's input
under the key of its routing domain (`streams/routing/keys.py`), or one copy per domain (a tick),
on the partition murmur2 of that key chooses (`partition_of`, as every producer partitions), so a
domain of a large tenant has its own partition. The conversation processor leaves its keys alone.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from aiokafka.partitioner import murmur2

from schemas import topic

from .processor import Processor, Wiring, message_headers
from .records import Output

SOURCE_HEADER = "input.source"
# (record, decoded value) -> the keys to append it under; None: its own key and partition
KeyHook = Callable[[object, dict], "list[str] | None"]


def partition_of(key: str | bytes, partitions: int) -> int:
    """The partition of a key: murmur2, as aiokafka's and Java's default partitioner (librdkafka's
    `murmur2_random`) choose, so a re-keyed record lands where its key's own records do."""
    return (murmur2(key.encode() if isinstance(key, str) else key) & 0x7FFFFFFF) % partitions


def source_of(msg) -> str:
    """The topic an input-log record was first written to."""
    return dict(message_headers(msg))[SOURCE_HEADER].decode()


class Sequencer:
    """`<name>`: every record of `sources` appended to `log`, then a processor over `log`."""

    def __init__(self, name: str, sources: Iterable[str], log: str, *, stage: str):
        self.log, self.partitions = topic(log).name, topic(log).partitions
        self.processor = Processor(name, sources, stage=stage)
        self.keys: KeyHook | None = None

    def reader(self, name: str, **options) -> Processor:
        """The processor that applies the log's records (subjects named by their source topic)."""
        subjects = self.processor.subjects
        return Processor(name, [self.log], subject_of=lambda msg: subjects[source_of(msg)], **options)

    def bind(self, wiring: Wiring, keys: KeyHook | None = None) -> None:
        """Start appending (the processor module's `setup`); `keys` re-keys records (module docstring)."""
        self.keys = keys
        self.processor.bind(self.append, wiring)

    def append(self, msg, record: dict) -> list[Output]:
        """The record, unchanged, on its own partition of the log (or under the keys the hook names),
        its source topic in a header."""
        headers = [h for h in message_headers(msg) if h[0] != SOURCE_HEADER] + [(SOURCE_HEADER, msg.topic.encode())]
        keys = self.keys(msg, record) if self.keys else None
        if keys is None:
            return [Output(self.log, msg.key, None, msg.value, headers, msg.partition, msg.timestamp)]
        return [Output(self.log, key, None, msg.value, headers, partition_of(key, self.partitions), msg.timestamp)
                for key in keys]
