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
"""
from __future__ import annotations

from collections.abc import Iterable

from schemas import topic

from .processor import Processor, Wiring, message_headers
from .records import Output

SOURCE_HEADER = "input.source"


def source_of(msg) -> str:
    """The topic an input-log record was first written to."""
    return dict(message_headers(msg))[SOURCE_HEADER].decode()


class Sequencer:
    """`<name>`: every record of `sources` appended to `log`, then a processor over `log`."""

    def __init__(self, name: str, sources: Iterable[str], log: str, *, stage: str):
        self.log = topic(log).name
        self.processor = Processor(name, sources, stage=stage)

    def reader(self, name: str, **options) -> Processor:
        """The processor that applies the log's records (subjects named by their source topic)."""
        subjects = self.processor.subjects
        return Processor(name, [self.log], subject_of=lambda msg: subjects[source_of(msg)], **options)

    def bind(self, wiring: Wiring) -> None:
        """Start appending (the processor module's `setup`)."""
        self.processor.bind(self.append, wiring)

    def append(self, msg, record: dict) -> list[Output]:  # noqa: ARG002 (decoded only to refuse bad input here)
        """The record, unchanged, on its own partition of the log, its source topic in a header."""
        headers = [h for h in message_headers(msg) if h[0] != SOURCE_HEADER] + [(SOURCE_HEADER, msg.topic.encode())]
        return [Output(self.log, msg.key, None, msg.value, headers, msg.partition, msg.timestamp)]
