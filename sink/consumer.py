"""The sink's consume → decode → map → insert → commit loop (confluent-kafka, at-least-once).

Offsets are committed only after every row of the batch is in ClickHouse (or its record is in
the dead-letter topic); a crash replays from the last commit, and the tables absorb the replay.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from schemas import Codec, DecodeError, catalogue
from switchboard.dlq import DeadLetter, dead_letter_record, produce_acked
from switchboard.kafka import commit_or_defer

from .errors import classify, retrying
from .rows import MAPPERS, Row, rows_of
from .store import Store

log = logging.getLogger("switchboard.sink")
OUTAGE_ATTEMPTS = 40   # retriable insert errors: 0.2 s doubling to 5 s, about 3 minutes of outage
GROUP = "switchboard-sink"


@dataclass
class Item:
    """One Kafka record and the rows it became."""

    message: object  # confluent_kafka.Message
    rows: list[Row]


@dataclass
class Stats:
    """What the sink has done since it started."""

    records: int = 0
    rows: int = 0
    dead_letters: int = 0
    by_table: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def sink_topics() -> dict[str, str]:
    """Topic -> subject for every catalogue topic the sink consumes and has a mapper for."""
    topics = {}
    for t in catalogue().values():
        if "sink" not in t.consumers:
            continue
        if t.value in MAPPERS:
            topics[t.name] = t.value
        else:
            log.warning("topic %s (subject %s) lists the sink as consumer but no mapper exists: "
                        "not subscribed", t.name, t.value)
    return topics


def group_by_table(items: list[Item]) -> dict[str, list[dict]]:
    """All rows of the items, per table, in record order."""
    tables: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        for table, row in item.rows:
            tables[table].append(row)
    return tables


class Sink:
    """Moves batches of records from Kafka into fact tables; the caller drives `step()`."""

    def __init__(self, store: Store, consumer, producer, topics: dict[str, str], codec: Codec, *,
                 batch_size: int = 5000, batch_seconds: float = 0.5,
                 to_rows: Callable[[str, dict], list[Row]] = rows_of):
        self.store, self.consumer, self.producer = store, consumer, producer
        self.to_rows = to_rows
        self.topics, self.codec = topics, codec
        self.batch_size, self.batch_seconds = batch_size, batch_seconds
        self.stats = Stats()
        self._dead: list[DeadLetter] = []  # this batch's, produced and acknowledged before its commit

    def step(self) -> int:
        """Consume one batch (up to batch_size records or batch_seconds), write it, commit it."""
        messages = self.consumer.consume(self.batch_size, self.batch_seconds)
        self._dead = []
        items = [item for m in messages if (item := self._decode(m)) is not None]
        self._write(items)
        if self._dead:  # RuntimeError when not acknowledged: the batch stays uncommitted
            produce_acked(self.producer, self._dead)
            self.stats.dead_letters += len(self._dead)
        if messages:
            commit_or_defer(self.consumer)   # a broker restart's moving coordinator waits for the next batch
        self.stats.records += len(messages)
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        """Step until `stop` is set; the last batch is committed before returning."""
        while not stop.is_set():
            self.step()

    def _decode(self, message) -> Item | None:
        if message.error():
            if message.error().fatal():
                raise RuntimeError(f"Kafka consumer failed: {message.error()}")
            log.warning("consumer: %s", message.error())
            return None
        try:
            record = self.codec.decode(message.value(), self.topics[message.topic()])
            return Item(message, self.to_rows(self.topics[message.topic()], record))
        except (DecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self._dead_letter(message, "sink.decode", exc)
            return None

    def _write(self, items: list[Item]) -> None:
        """Insert the items' rows; on a data error, split the batch to find the bad records."""
        if not items:
            return
        try:
            for table, rows in group_by_table(items).items():
                retrying(lambda: self.store.insert(table, rows), attempts=OUTAGE_ATTEMPTS)
        except Exception as exc:
            if classify(exc) != "data":
                raise  # retriable errors already retried; fatal ones stop the sink uncommitted
            if len(items) == 1:
                self._dead_letter(items[0].message, "sink.insert", exc)
                return
            # Rows already written are written again below: the tables absorb the repeat.
            middle = len(items) // 2
            self._write(items[:middle])
            self._write(items[middle:])
            return
        self._count(items)

    def _count(self, items: list[Item]) -> None:
        for item in items:
            for table, _ in item.rows:
                self.stats.by_table[table] += 1
            self.stats.rows += len(item.rows)

    def _dead_letter(self, message, stage: str, exc: Exception) -> None:
        log.warning("dead letter %s[%d]@%d (%s): %s", message.topic(), message.partition(),
                    message.offset(), stage, exc)
        self._dead.append(dead_letter_record(
            message.topic(), message.key(), message.value(), stage=stage, error=f"{type(exc).__name__}: {exc}",
            partition=message.partition(), offset=message.offset(), headers=message.headers()))
