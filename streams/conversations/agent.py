"""faust plumbing of the conversation processor: one agent, one table, one expiry task.

Its five input topics (inbound-messages, assignments, outbound-messages, conversation-timeouts,
delivery-status) are sequenced into `conversation-inputs` (`streams/sequencer.py`), so a
replay applies a thread's records in the order they were first applied; the agent over that log
is a `streams.processor.Processor`: the batch's outputs are produced and acked before the new
thread states are written (see the contract's docstring for the crash windows).
"""
from __future__ import annotations

import asyncio
import time

from schemas import topic
from streams.app import app, raw_table
from streams.processor import Wiring
from streams.produce import send_all
from streams.records import Output
from streams.sequencer import Sequencer, source_of

from . import expiry, referrals
from .config import ThreadingConfig
from .dispatch import SUBJECTS, apply
from .state import StateCodec

STAGE = "streams.conversations"
# Small per-partition RocksDB (defaults: 2 GiB block cache, 3 x 64 MiB write buffers per partition).
ROCKSDB_OPTIONS = {"write_buffer_size": 8 << 20, "max_write_buffer_number": 2, "block_cache_size": 16 << 20,
                   "target_file_size_base": 16 << 20, "max_open_files": 256}

conversation_by_thread = raw_table("conversation_by_thread", changelog="conversation-state", options=ROCKSDB_OPTIONS,
                                   help="Thread state by thread key (subject conversation-state).")
sequencer = Sequencer("sequence_conversation_inputs", SUBJECTS, "conversation-inputs", stage=STAGE)
processor = sequencer.reader("thread_conversations", stage=STAGE, tables=[conversation_by_thread])
threads = processor.staged(conversation_by_thread)
metrics = processor.metrics
metrics.update(applied=0, duplicates=0, expiry_findings=0)


class Runtime:
    """What the handler and the expiry task need, built by `setup` from the worker's wiring."""

    config: ThreadingConfig | None = None
    states: StateCodec | None = None
    wiring: Wiring | None = None


def setup(wiring: Wiring) -> None:
    """Read accounts and windows, bind the handler (the worker calls this before the app starts)."""
    interval = getattr(wiring.options, "expiry_interval", None) or 30.0
    directory = wiring.directory   # the tenants' allowed system senders and entry points
    senders = directory.system_senders if directory is not None else (lambda tenant: frozenset())
    entry_point = referrals.lookup(directory) if directory is not None else referrals.none
    Runtime.config = ThreadingConfig.from_settings(wiring.settings, directory, expiry_interval_s=interval,
                                                   system_senders=senders, entry_point=entry_point)
    Runtime.states, Runtime.wiring = StateCodec(wiring.codec), wiring
    sequencer.bind(wiring)
    processor.bind(handle, wiring)


def handle(msg, value: dict) -> list[Output]:
    """Dedupe, thread, route, police outbound: one record of a thread, applied to its state."""
    key = value["thread_key"].encode()
    step = apply(source_of(msg), Runtime.states.loads(threads.get(key)), value, partition=msg.partition,
                 record_ms=int(msg.timestamp * 1000), config=Runtime.config)
    metrics["duplicates" if step.duplicate else "applied"] += 1
    if step.duplicate:
        return step.outputs
    if step.state is None:
        threads.pop(key, None)
    else:
        threads[key] = Runtime.states.dumps(step.state)
    return step.outputs


@app.task
async def expire_conversations() -> None:
    """Every interval, find expired conversations and idle threads in this worker's partitions."""
    while Runtime.config is None:
        await asyncio.sleep(0.1)
    async for _ in app.itertimer(Runtime.config.expiry_interval_s, name="expire_conversations"):
        await scan(int(time.time() * 1000))


async def scan(now: int) -> int:
    """Send a conversation-timeout for each finding, to the partition that owns the thread."""
    records, name = [], topic("conversation-timeouts").name
    for index, (key, data) in enumerate(conversation_by_thread.items()):
        state = Runtime.states.loads(data)
        found = expiry.finding(state, now, window_ms=Runtime.config.window_of(state),
                               ttl_ms=Runtime.config.ttl_ms, grace_ms=Runtime.config.grace_ms)
        if found:
            records.append(Output(name, key, "conversation-timeout", found, partition=state["partition"])
                           .encoded(Runtime.wiring.codec))
        if index % 1000 == 999:
            await asyncio.sleep(0)   # a large table must not starve the agent
    await send_all(records)
    metrics["expiry_findings"] += len(records)
    return len(records)
