"""The one processor contract: every faust agent of `streams/` is a `Processor`.

Per batch of events (≤ `batch` records or `within` seconds, faust's `take_events`):

1. decode each record with the role's codec (the subject its source topic declares);
2. call the processor's handler: read state from its `Staged` tables, apply a pure function,
   stage the new state, return `Output`s — encoded here;
3. produce every output of the batch and **await the broker's acks** (`send_all`);
4. write the staged table entries (each under the partition of the event that wrote it);
5. return, and faust acks the batch and later commits its offsets.

A crash before 4 replays the batch on the old state: the same outputs with the same ids, absorbed
downstream (see streams/README.md, per output topic). A crash after 4 finds the ids in the state
and produces nothing new. Writing the table first would lose outputs: RocksDB keeps the write, the
producer's buffer does not.

Faust acks an event even when the agent raises, so nothing escapes: bad input (`PERMANENT`) goes
to `<topic>-dlq` at once with its original bytes and headers; any other error is retried in place
(`HANDLE_ATTEMPTS`, doubling backoff) on the state as it was before the event, then dead-lettered.
If the broker stays unreachable, or the batch cannot be finished, the worker exits without letting
faust ack (`halt`), so the next worker replays the batch.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import faust

from schemas import Codec, DecodeError, topic
from switchboard.settings import Settings
from switchboard.dlq import dead_letter_record

from .app import app, raw_topic
from .faults import Fault
from switchboard.directory import DirectoryView

from .produce import ProduceFailed, retry, send_all
from .records import Output
from .staged import Staged, event_context

log = logging.getLogger(__name__)
PERMANENT = (DecodeError, KeyError, ValueError, TypeError, AttributeError)  # retrying will not help
HANDLE_ATTEMPTS, HANDLE_BACKOFF_S = 3, 0.05
BATCH, BATCH_WITHIN_S = 500, 0.05
HALT_EXIT_CODE = 70  # EX_SOFTWARE: a supervisor restarts the worker, which replays the batch

Handler = Callable[[faust.types.Message, dict], list[Output]]


@dataclass(frozen=True)
class Wiring:
    """What the worker's `main` builds once and hands to every processor module's `setup`."""

    settings: Settings
    options: argparse.Namespace
    codec: Codec
    fault: Fault
    directory: DirectoryView | None = None   # people and configuration (switchboard/directory.py)
    configs: object | None = None            # routing configurations by tenant (streams/routing/sources.py)


class Processor:
    """One faust agent over `sources`, applying a handler under the contract (module docstring)."""

    def __init__(self, name: str, sources: Iterable[str], *, stage: str, tables: Iterable[faust.Table] = (),
                 subject_of: Callable[[faust.types.Message], str] | None = None,
                 batch: int = BATCH, within: float = BATCH_WITHIN_S):
        """`subject_of(message)`: the Avro subject of a record, when its topic does not fix one."""
        self.name, self.stage, self.batch, self.within = name, stage, batch, within
        self.subjects = {topic(s).name: topic(s).value for s in sources}
        self.subject_of = subject_of or (lambda msg: self.subjects[msg.topic])
        self.tables = [Staged(t) for t in tables]
        self.handler: Handler | None = None
        self.codec, self.fault = None, Fault()
        self.metrics = {"events": 0, "outputs": 0, "dead_letters": 0, "retries": 0}
        app.agent(raw_topic(*self.subjects), name=name)(self._agent)

    def staged(self, table: faust.Table) -> Staged:
        """The batch's view of `table` (reads see this batch's writes; writes wait for the acks)."""
        return next(s for s in self.tables if s.table is table)

    def bind(self, handler: Handler, wiring: Wiring) -> None:
        """Give the processor its handler, the role's codec and fault point (the module's `setup`)."""
        self.handler, self.codec, self.fault = handler, wiring.codec, wiring.fault

    async def _agent(self, stream) -> None:
        if self.handler is None:
            halt(f"{self.name} started without its handler: the worker must call the module's setup()")
        async for events in stream.take_events(self.batch, within=self.within):
            task = asyncio.ensure_future(self.process(events))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:  # the worker stops: finish the batch (ms) so its ack is true
                await _finish(task, len(events))
                raise
            except Exception as exc:  # noqa: BLE001 - the batch cannot be acked: replay it elsewhere
                halt(f"batch of {len(events)} not applied: {exc!r}")

    async def process(self, events: list) -> None:
        """Apply a batch, produce its outputs (acked), then write its staged state."""
        records: list[Output] = []
        for event in events:
            records += await self._handle(event)
        due = self.fault.due(self.name, events)
        try:
            await send_all(records)
        except ProduceFailed as exc:
            halt(str(exc))
        dead = sum(1 for r in records if topic(r.topic).is_dlq)   # counted once acked, as in every stage
        self.metrics["outputs"] += len(records) - dead
        self.metrics["dead_letters"] += dead
        self.fault.crash_at("produced", due)
        for staged in self.tables:
            staged.flush()
        self.fault.crash_at("written", due)

    async def _handle(self, event) -> list[Output]:
        """One event's encoded outputs, or its dead letter; its staged writes undone on failure."""
        msg = event.message
        self.metrics["events"] += 1

        async def attempt() -> list[Output]:
            marks = [s.mark() for s in self.tables]
            try:
                with event_context(event):
                    return [o.encoded(self.codec) for o in self.handler(msg, self._decode(msg))]
            except Exception:
                for staged, mark in zip(self.tables, marks):
                    staged.rollback(mark)
                raise

        try:
            return await retry(attempt, attempts=HANDLE_ATTEMPTS, backoff_s=HANDLE_BACKOFF_S,
                               retriable=lambda exc: not isinstance(exc, PERMANENT), on_retry=self._retried,
                               what=f"{self.name} on {msg.topic}[{msg.partition}]@{msg.offset}")
        except Exception as exc:  # noqa: BLE001 - bad input, or a fault that outlived its retries
            return [self._dead_letter(msg, exc)]

    def _retried(self, exc: Exception) -> None:  # noqa: ARG002 (retry's callback signature)
        self.metrics["retries"] += 1

    def _decode(self, msg) -> dict:
        return self.codec.decode(msg.value, self.subject_of(msg))

    def _dead_letter(self, msg, exc: Exception) -> Output:
        bad_input = isinstance(exc, PERMANENT)   # a bug or a lasting fault gets its stack trace
        log.log(logging.WARNING if bad_input else logging.ERROR, "%s: dead letter from %s[%s]@%s: %s",
                self.name, msg.topic, msg.partition, msg.offset, exc, exc_info=not bad_input)
        dead = dead_letter_record(msg.topic, msg.key, msg.value, stage=self.stage,
                                  error=f"{type(exc).__name__}: {exc}", partition=msg.partition,
                                  offset=msg.offset, headers=message_headers(msg))
        return Output(dead.topic, dead.key, None, dead.value, dead.headers)


def message_headers(msg) -> list[tuple[str, bytes]]:
    """A faust message's headers as (name, bytes) pairs."""
    headers = msg.headers or []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


async def _finish(task: asyncio.Future, size: int) -> None:
    try:
        await task
    except Exception as exc:  # noqa: BLE001
        halt(f"batch of {size} not applied while stopping: {exc!r}")


def halt(why: str) -> None:
    """Exit without letting faust ack the batch (take_events acks in a finally, then commits).

    Its offsets stay uncommitted and the next worker replays it, producing the same records with
    the same ids.
    """
    log.critical("exiting without committing: %s", why)
    logging.shutdown()
    os._exit(HALT_EXIT_CODE)


