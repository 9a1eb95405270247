"""All-or-nothing publishing of one webhook's events, awaited from asyncio.

Every `publish(records)` call is one unit: the caller learns that all its records are durable
(acks=all) or that the unit failed. A background thread group-commits concurrent units:

- transactional (default): begin, produce every waiting unit, commit; abort on any failure, so
  `read_committed` consumers never see a half-published webhook. One transaction covers many
  concurrent requests, which amortizes the commit round trips.
- plain: idempotent produce + flush; a failed unit may leave some of its records behind, which the
  platform's redelivery (same deterministic event ids) lets downstream dedupe absorb.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from confluent_kafka import KafkaException

from switchboard.dlq import DeadLetter
from switchboard.kafka import producer as make_producer

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The broker did not acknowledge a unit in time (answer 503: the platform retries)."""


@dataclass(frozen=True)
class Record:
    """One Kafka record to produce (a `switchboard.dlq.DeadLetter` has the same fields and is published as is)."""

    topic: str
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Publisher:
    """Group-committing publisher over the idempotent acks=all producer (see module doc)."""

    def __init__(self, client_config: dict, *, transactional_id: str | None, timeout_s: float = 5.0,
                 max_units: int = 500):
        self.transactional = transactional_id is not None
        self.timeout_s, self.max_units = timeout_s, max_units
        millis = int(timeout_s * 1000)
        self._config = {**client_config, "message.timeout.ms": millis, "socket.connection.setup.timeout.ms": millis}
        if self.transactional:
            self._config |= {"transactional.id": transactional_id, "transaction.timeout.ms": max(millis, 10000)}
        self._producer = None
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="edge-publisher", daemon=True)
        self._thread.start()

    async def publish(self, records: list[Record | DeadLetter]) -> None:
        """Return once every record is acknowledged; PublishError otherwise (nothing committed)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put((records, done, loop))
        try:
            await asyncio.wait_for(asyncio.shield(done), self.timeout_s * 3)
        except asyncio.TimeoutError:
            raise PublishError("the publisher did not answer in time") from None

    def close(self) -> None:
        """Finish what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join(self.timeout_s * 3)
        if self._producer is not None:
            self._producer.flush(self.timeout_s)
            # Drop our reference: librdkafka's threads end with the object, not with flush, and a
            # closed publisher that keeps them would retry its broker connections forever.
            self._producer = None

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            units = [first]
            while len(units) < self.max_units:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                units.append(nxt)
            failures = self._commit(units)
            for (_, done, loop), failure in zip(units, failures):
                loop.call_soon_threadsafe(_settle, done, failure)

    def _commit(self, units: list) -> list[Exception | None]:
        try:
            if self.transactional:
                self._transaction(units)
                return [None] * len(units)
            return self._plain(units)
        except (KafkaException, BufferError, PublishError) as exc:
            log.warning("publish of %d request(s) failed: %s", len(units), exc)
            return [PublishError(str(exc))] * len(units)

    def _transaction(self, units: list) -> None:
        producer = self._ready_producer()
        producer.begin_transaction()
        try:
            for records, _, _ in units:
                for r in records:
                    producer.produce(r.topic, key=r.key, value=r.value, headers=list(r.headers))
            producer.commit_transaction(self.timeout_s)
        except (KafkaException, BufferError):
            self._abort(producer)
            raise

    def _abort(self, producer) -> None:
        try:
            producer.abort_transaction(self.timeout_s)
        except KafkaException as exc:  # broker gone or producer fenced: start over with a new one
            log.warning("abort failed (%s): the next unit starts a new transactional producer", exc)
            producer.purge()
            self._producer = None

    def _ready_producer(self):
        if self._producer is None:
            candidate = make_producer(self._config)
            if self.transactional:
                try:
                    candidate.init_transactions(self.timeout_s)
                except KafkaException:
                    candidate.purge()
                    raise
            self._producer = candidate
        return self._producer

    def _plain(self, units: list) -> list[Exception | None]:
        producer = self._ready_producer()
        failures: list[Exception | None] = [None] * len(units)

        def failed(index):
            def report(err, _msg):
                if err is not None:
                    failures[index] = PublishError(str(err))
            return report
        for index, (records, _, _) in enumerate(units):
            for r in records:
                producer.produce(r.topic, key=r.key, value=r.value, headers=list(r.headers), on_delivery=failed(index))
        if producer.flush(self.timeout_s) > 0:
            raise PublishError("records still unacknowledged after the publish timeout")
        return failures


def _settle(done: asyncio.Future, failure: Exception | None) -> None:
    if done.done():
        return
    if failure is None:
        done.set_result(None)
    else:
        done.set_exception(failure)
