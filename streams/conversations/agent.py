"""faust plumbing of the conversation processor: one agent, one table, one expiry task.

Per batch: decode each record, apply its pure function to the thread's state (`dispatch.apply`),
produce every output and wait for the broker's acks, and only then write the new states to the
table. A crash before the writes replays the batch on the old state, giving the same records with
the same ids (absorbed downstream); a crash after them finds the ids seen and drops them. Writing
the table first would lose outputs: RocksDB keeps the write, the producer's buffer does not.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from contextlib import contextmanager

from faust.streams import _current_event  # faust reads a table write's partition from it

from schemas import Codec, DecodeError, topic
from streams.app import app
from streams.produce import send_all
from switchboard.dlq import dlq_headers, dlq_topic

from . import expiry
from .config import ThreadingConfig
from .dispatch import SUBJECTS, apply
from .state import StateCodec

log = logging.getLogger(__name__)
STAGE = "streams.conversations"
BATCH, BATCH_WITHIN_S = 500, 0.05
PERMANENT = (DecodeError, KeyError, ValueError, TypeError)  # bad input: logged without a stack trace
# Small per-partition RocksDB (defaults: 2 GiB block cache, 3 x 64 MiB write buffers per partition).
ROCKSDB_OPTIONS = {"write_buffer_size": 8 << 20, "max_write_buffer_number": 2, "block_cache_size": 16 << 20,
                   "target_file_size_base": 16 << 20, "max_open_files": 256}
RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}

state_topic = app.topic(topic("conversation-state").name, partitions=topic("conversation-state").partitions, **RAW)
conversation_by_thread = app.Table("conversation_by_thread", key_type=bytes, value_type=bytes, changelog_topic=state_topic,
                                   partitions=topic("conversation-state").partitions, options=ROCKSDB_OPTIONS,
                                   help="Thread state by thread key (subject conversation-state).")
sources = app.topic(*SUBJECTS, **RAW)
metrics = {"applied": 0, "duplicates": 0, "dead_letters": 0, "expiry_findings": 0}


class Runtime:
    """What the agent needs at run time, set by `setup` once settings are read."""

    config: ThreadingConfig | None = None
    codec = Codec()
    states = StateCodec()


def setup(settings, options=None) -> None:
    """Read accounts and windows (the worker calls this before the app starts)."""
    interval = getattr(options, "expiry_interval", None) or 30.0
    Runtime.config = ThreadingConfig.from_settings(settings, expiry_interval_s=interval)
    Runtime.codec = Codec.from_settings(settings)
    Runtime.states = StateCodec(Runtime.codec)


@contextmanager
def event_context(event):
    """Make `event` faust's current event: table reads and writes then use its partition."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


@app.agent(sources, name="thread_conversations")
async def thread_conversations(stream):
    """Dedupe, thread, route, police outbound: every record keyed by thread key, in order."""
    async for events in stream.take_events(BATCH, within=BATCH_WITHIN_S):
        task = asyncio.ensure_future(process(events))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:   # the worker stops: finish the batch (ms) so its ack is true
            await _finish(task, len(events))
            raise
        except Exception as exc:
            _halt(f"batch of {len(events)} not applied: {exc!r}")


async def _finish(task: asyncio.Future, size: int) -> None:
    try:
        await task
    except Exception as exc:
        _halt(f"batch of {size} not applied while stopping: {exc!r}")


def _halt(why: str) -> None:
    """Exit without letting faust ack the batch (take_events acks in a finally, then commits).

    Used when a batch could not be applied completely (broker down for long, a table write failed,
    or the worker was stopped mid-batch): its offsets stay uncommitted and the next worker replays
    it, producing the same records with the same ids.
    """
    log.critical("exiting without committing: %s", why)
    logging.shutdown()
    os._exit(70)


async def process(events) -> None:
    """Apply a batch, produce its outputs (acked), then write its states."""
    pending, outputs = {}, []
    for event in events:
        outputs += _apply_one(event, pending)
    await send_all(outputs)
    for key, (event, state) in pending.items():
        with event_context(event):
            if state is None:
                conversation_by_thread.pop(key, None)
            else:
                conversation_by_thread[key] = Runtime.states.dumps(state)


def _apply_one(event, pending: dict) -> list:
    msg = event.message
    try:
        value = Runtime.codec.decode(msg.value, SUBJECTS[msg.topic])
        key = value["thread_key"].encode()
        if key in pending:
            state = pending[key][1]
        else:
            with event_context(event):
                state = Runtime.states.loads(conversation_by_thread.get(key))
        step = apply(msg.topic, state, value, partition=msg.partition, record_ms=int(msg.timestamp * 1000),
                     config=Runtime.config)
        records = [(o.topic, o.key.encode(), Runtime.codec.encode(o.subject, o.value), None) for o in step.outputs]
    except Exception as exc:  # bad input or a bug: the record is kept for replay, the stream goes on
        metrics["dead_letters"] += 1
        log.log(logging.WARNING if isinstance(exc, PERMANENT) else logging.ERROR, "dead letter from %s[%s]@%s: %s",
                msg.topic, msg.partition, msg.offset, exc, exc_info=not isinstance(exc, PERMANENT))
        headers = dlq_headers(msg.topic, stage=STAGE, error=f"{type(exc).__name__}: {exc}",
                              partition=msg.partition, offset=msg.offset)
        return [(dlq_topic(msg.topic), msg.key, msg.value, headers)]
    metrics["duplicates" if step.duplicate else "applied"] += 1
    if not step.duplicate:
        pending[key] = (event, step.state)
    return records


@app.task
async def expire_conversations() -> None:
    """Every interval, find expired conversations and idle threads in this worker's partitions."""
    while Runtime.config is None:
        await asyncio.sleep(0.1)
    async for _ in app.itertimer(Runtime.config.expiry_interval_s, name="expire_conversations"):
        await scan(int(time.time() * 1000))


async def scan(now: int) -> int:
    """Send a conversation-timeout for each finding, to the partition that owns the thread."""
    records = []
    for index, (key, data) in enumerate(conversation_by_thread.items()):
        state = Runtime.states.loads(data)
        found = expiry.finding(state, now, window_ms=Runtime.config.window_of(state),
                               ttl_ms=Runtime.config.ttl_ms, grace_ms=Runtime.config.grace_ms)
        if found:
            records.append((key, state["partition"], Runtime.codec.encode("conversation-timeout", found)))
        if index % 1000 == 999:
            await asyncio.sleep(0)   # a large table must not starve the agent
    name = topic("conversation-timeouts").name
    futures = [await app.producer.send(name, k, v, partition=p, timestamp=None, headers=None) for k, p, v in records]
    await asyncio.gather(*futures)
    metrics["expiry_findings"] += len(records)
    return len(records)
