"""faust plumbing of the conversation processor: one agent, its thread table and expiry index, one expiry task.

Its seven input topics (inbound-messages, assignments, outbound-messages, conversation-timeouts,
delivery-status, consents, customer-updates) are sequenced into `conversation-inputs` (`streams/sequencer.py`), so a
replay applies a thread's records in the order they were first applied; the agent over that log
is a `streams.processor.Processor`: the batch's outputs are produced and acked before the new
thread states are written (see the contract's docstring for the crash windows). Each event also
places its thread in the expiry index (`due.py`) at the state's next due instant, so the expiry task
reads only the threads due by now.
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

from . import consents, due, expiry, language, referrals
from .config import ThreadingConfig
from .dispatch import SUBJECTS, apply
from .state import StateCodec

STAGE = "streams.conversations"
# Small per-partition RocksDB (defaults: 2 GiB block cache, 3 x 64 MiB write buffers per partition).
ROCKSDB_OPTIONS = {"write_buffer_size": 8 << 20, "max_write_buffer_number": 2, "block_cache_size": 16 << 20,
                   "target_file_size_base": 16 << 20, "max_open_files": 256}

conversation_by_thread = raw_table("conversation_by_thread", changelog="conversation-state", options=dict(ROCKSDB_OPTIONS),
                                   help="Thread state by thread key (subject conversation-state).")
thread_by_due = raw_table("thread_by_due", changelog="conversation-due-index", options=dict(ROCKSDB_OPTIONS),
                          help="Thread keys by next due expiry instant (streams/conversations/due.py).")
sequencer = Sequencer("sequence_conversation_inputs", SUBJECTS, "conversation-inputs", stage=STAGE)
processor = sequencer.reader("thread_conversations", stage=STAGE, tables=[conversation_by_thread, thread_by_due])
threads, dues = processor.staged(conversation_by_thread), processor.staged(thread_by_due)
metrics = processor.metrics
metrics.update(applied=0, duplicates=0, expiry_findings=0)
index = due.DueIndex(lambda: due.local_partitions(thread_by_due), metrics)


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
    keywords = consents.lookup(directory) if directory is not None else consents.defaults
    merge_typed = (lambda tenant: bool((directory.tenant(tenant) or {}).get("merge_typed_details"))) \
        if directory is not None else (lambda tenant: False)
    detect = language.lookup(directory, wiring.settings.language_confidence) if directory is not None \
        else (lambda tenant: language.none)
    if directory is not None:
        language.warm(directory)   # the models load in the background, not on the first message
    Runtime.config = ThreadingConfig.from_settings(wiring.settings, directory, expiry_interval_s=interval,
                                                   system_senders=senders, entry_point=entry_point,
                                                   consent_keywords=keywords, merge_typed_details=merge_typed,
                                                   detect_language=detect)
    Runtime.states, Runtime.wiring = StateCodec(wiring.codec), wiring
    sequencer.bind(wiring)
    processor.bind(handle, wiring)


def handle(msg, value: dict) -> list[Output]:
    """Dedupe, thread, route, police outbound: one record of a thread, applied to its state."""
    key = value["thread_key"].encode()
    state = Runtime.states.loads(threads.get(key))
    step = apply(source_of(msg), state, value, partition=msg.partition,
                 record_ms=int(msg.timestamp * 1000), config=Runtime.config)
    metrics["duplicates" if step.duplicate else "applied"] += 1
    if not step.duplicate:
        state = step.state
        if state is None:
            threads.pop(key, None)
        else:
            threads[key] = Runtime.states.dumps(state)
    # A duplicate too: the replay of a batch cut between the two tables' writes mends the index.
    due.place(dues, key, due_at(state))
    return step.outputs


def due_at(state: dict | None) -> int | None:
    """When `expiry.finding` first finds something for this state (None: no state, no entry)."""
    if state is None:
        return None
    config = Runtime.config
    return expiry.next_due(state, window_ms=config.window_of(state), ttl_ms=config.ttl_ms, grace_ms=config.grace_ms)


@app.task
async def expire_conversations() -> None:
    """Every interval, find expired conversations and idle threads in this worker's partitions."""
    while Runtime.config is None:
        await asyncio.sleep(0.1)
    async for _ in app.itertimer(Runtime.config.expiry_interval_s, name="expire_conversations"):
        await scan(int(time.time() * 1000))


async def scan(now: int) -> int:
    """Send a conversation-timeout for each finding of a thread due by `now`, to the partition that owns it."""
    records, name = [], topic("conversation-timeouts").name
    for n, key in enumerate(index.due(now)):
        state = Runtime.states.loads(conversation_by_thread.get(key))
        found = state and expiry.finding(state, now, window_ms=Runtime.config.window_of(state),
                                         ttl_ms=Runtime.config.ttl_ms, grace_ms=Runtime.config.grace_ms)
        if found:
            records.append(Output(name, key, "conversation-timeout", found, partition=state["partition"])
                           .encoded(Runtime.wiring.codec))
        if n % 1000 == 999:
            await asyncio.sleep(0)   # many threads due at once must not starve the agent
    await send_all(records)
    metrics["expiry_findings"] += len(records)
    return len(records)
