"""Seek stream partitions to their committed offsets *before* resuming them after recovery.

faust-streaming 0.15.3 `Recovery.on_recovery_completed` resumes the stream partitions and only
then awaits `consumer.perform_seek()`, while the fetcher is already running with flow active
(recovery resumed it to read the changelogs). aiokafka's `seek_to_committed` asks for one
partition's committed offset at a time (~40 partitions here: 200-300 ms), so records of the
input topics are fetched and handed to the agents during the seek. When the seek then resets
faust's read offsets to the committed ones, `Consumer._drain_messages` takes the next record
of the batch in flight for a gap and `_add_gap` marks it, and the range before it, as acked, while
the re-fetched copies are dropped as "already read" (a dev-level log only). Result after a
`kill -9` + restart: input records neither processed nor reprocessed, offsets committed past them
(seen here: 1 record, and 51 records over 5 partitions, of 1,000). Same race as
faust-streaming/faust#216 (fixed for `_resume_streams` by PR #217, whose order is seek → resume;
`on_recovery_completed` regressed to resume → seek) and #596.

The fix keeps the stream partitions paused until the seek has finished. Everything else is the
method as faust 0.15.3 ships it.

A second loss in the same window: faust pauses partitions only in its own bookkeeping and asks
aiokafka for the records of its *active* partitions, but aiokafka's `Fetcher.fetched_records`
reads an empty set as "every partition" (`if partitions and tp not in partitions`). So an empty
active set fetches nothing here. Worse, faust passes its own active set, the object it pauses
partitions in (`pause_partitions`: `difference_update`), and `fetched_records` reads it again
each time it wakes while it waits (up to the 1 s timeout). A fetch that began while the
changelogs were being read saw the set emptied when recovery paused them ("Done reading from
changelog topics") and drained every partition: the input records aiokafka had prefetched (its
position moved past them) were dropped by faust's `getmany` as not active. Seen in the fault
tier: a worker killed within a second of its first input had committed no offset, and the new one
went on from each input partition's end (258 messages without a fact); with a committed offset,
faust took the records before the end for a gap and committed past them (109 messages). So the
fetch reads the set through `ActiveNow`, which is never empty to aiokafka. And since `perform_seek` leaves a partition
with no committed offset (None or 0: aiokafka's `seek_to_committed` skips them) where it stands,
such stream partitions are sought to offset 0 (out of range where retention removed it: the reset
policy, earliest), which that policy makes their committed offset, before they resume.

A third, not yet explained: in the full test suite (a broker that earlier tests filled), a new
worker whose input partition held records before it started sometimes never read them — the
partition's position stayed where it was committed while every agent waited for events (the
stacks show no processing, the group's offsets show the records pending). So 5 s after recovery
`watch_resumed` checks each stream partition: one that holds records past its position and has
not moved is sought again to where it stands (its committed offset: nothing was read) and
resumed, with a warning that names the consumer's bookkeeping of it (read offset, active, paused,
flow); a partition held back because its stream's buffer is full is left alone. Open: in each case seen (four clean-clone runs) the
unread input partition had the number of a changelog partition the worker had just restored, and
in the last one the watch did not fire (the position had moved, or the records were dropped after
fetching: faust's read offsets are the next suspect). A replay from the
committed offset is what every restart does, so this loses and duplicates nothing the contract
does not already absorb.

`apply()` refuses other faust and aiokafka versions (pinned exactly in pyproject.toml) so an
upgrade is re-checked rather than silently patched.
"""
from __future__ import annotations

import asyncio
import logging
from typing import cast

import aiokafka
import faust
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

CHECKED_FAUST = "0.15.3"
CHECKED_AIOKAFKA = "0.14.0"  # Fetcher.fetched_records reads an empty partition set as "all"
IDLE_POLL = 0.05  # seconds between polls while every partition is paused (faust polls in a loop)
STALL_CHECK_S = 5.0  # after recovery, a stream partition with records must have moved by then
_fetch_records = AIOKafkaConsumerThread._fetch_records
log = logging.getLogger(__name__)


async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """faust's `Recovery.on_recovery_completed` with the seek moved before the resume."""
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callback_coros = [asyncio.ensure_future(table.on_recovery_completed(
        self.actives_for_table[table], self.standbys_for_table[table])) for table in self.tables.values()]
    if callback_coros:
        await asyncio.wait(callback_coros)
    assignment = consumer.assignment()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning(f"Recovery rebalancing again app id {self.app.consumer_generation_id} param {generation_id}")
        return
    streams = {tp for tp in assignment if not self._is_changelog_tp(tp)}
    if assignment:
        self.log.info("Seek stream partitions to committed offsets, then resume them.")
        await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
        # perform_seek leaves a partition with no committed offset (None, or 0) where it stands; the
        # reset policy (earliest) is its committed offset: records drained while it was paused are read again.
        uncommitted = sorted(tp for tp in streams if not consumer._read_offset.get(tp))
        try:
            if uncommitted:   # offset 0 where retention removed it: out of range, reset to the earliest
                await self._wait(consumer.seek_wait(dict.fromkeys(uncommitted, 0)),
                                 timeout=self.app.conf.broker_request_timeout)
        except aiokafka.errors.IllegalStateError:   # no longer assigned: a newer rebalance recovers them
            self.log.warning("Recovery rebalancing again: %s no longer assigned", uncommitted)
            return
    consumer.resume_partitions(streams)
    self.completed.set()
    self.app.flow_control.resume()
    consumer.resume_flow()
    await cast(faust.App, self.app)._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")
    if streams:
        self.add_future(watch_resumed(self.app, generation_id, streams))


async def watch_resumed(app, generation_id: int, tps: set, after: float = STALL_CHECK_S) -> list:
    """`after` s past recovery, seek again to where it stands every stream partition that holds
    records past its position and did not move (module docstring); returns those partitions, logged
    with the consumer's bookkeeping of each."""
    consumer = app.consumer
    before = {tp: await consumer.position(tp) for tp in tps}
    await asyncio.sleep(after)
    if app.consumer_generation_id != generation_id or app.in_recovery:
        return []   # a newer rebalance: its own recovery watches
    ends = await consumer.highwaters(*tps)
    stalled = []
    for tp in sorted(tps):
        position = await consumer.position(tp)
        if (position is None or position != before[tp] or (ends.get(tp) or 0) <= position
                or tp in consumer._buffered_partitions):   # buffered: held back while its stream is full
            continue
        stalled.append(tp)
        log.warning("stream partition %s[%d] holds records (end %s) but stayed at %s for %.0f s after recovery: "
                    "seeking it there again (read offset %s, active %s, paused %s, flow %s)",
                    tp.topic, tp.partition, ends.get(tp), position, after, consumer._read_offset.get(tp),
                    tp in consumer._get_active_partitions(), tp in consumer._paused_partitions, consumer.flow_active)
    if stalled:
        for tp in stalled:   # nothing read: where it stands is its committed offset; seeking drops any
            await consumer.seek(tp, before[tp])   # stale fetch and faust's read offset with it
        consumer.resume_partitions(stalled)
        consumer.resume_flow()
    return stalled


class ActiveNow:
    """faust's set of active partitions as aiokafka's `fetched_records` should read it while it
    waits: whatever is active at each look (one faust pauses meanwhile stays in aiokafka's buffer,
    one it resumes is handed over at once), and never "every partition" when the set empties."""

    def __init__(self, live: set):
        self._live = live

    def __contains__(self, tp) -> bool:
        return tp in self._live

    def __bool__(self) -> bool:
        return True


async def fetch_active_records(self: AIOKafkaConsumerThread, consumer, active_partitions, timeout=None,
                               max_records=None):
    """faust's `_fetch_records`: none (not all) when no partition is active, and the active set read
    as it stands each time aiokafka looks (`ActiveNow`): faust pauses a partition by removing it from
    the very set it passed, and aiokafka reads an emptied one as every partition (module docstring)."""
    if active_partitions is not None and not active_partitions:
        await asyncio.sleep(min(timeout or 0, IDLE_POLL))
        return {}
    active = None if active_partitions is None else ActiveNow(active_partitions)
    return await _fetch_records(self, consumer, active, timeout=timeout, max_records=max_records)


def check_versions() -> None:
    """RuntimeError naming what to re-check unless faust and aiokafka are the versions checked."""
    if faust.__version__ != CHECKED_FAUST:
        raise RuntimeError(f"streams/recovery_order.py was checked against faust {CHECKED_FAUST}, "
                           f"not {faust.__version__}: re-check Recovery.on_recovery_completed "
                           "(streams/README.md, Upgrading)")
    if aiokafka.__version__ != CHECKED_AIOKAFKA:
        raise RuntimeError(f"streams/recovery_order.py was checked against aiokafka {CHECKED_AIOKAFKA}, "
                           f"not {aiokafka.__version__}: re-check Fetcher.fetched_records with an empty "
                           "partition set (streams/README.md, Upgrading)")


def apply() -> None:
    """Install both fixes (before the worker starts); only on the versions checked."""
    check_versions()
    Recovery.on_recovery_completed = on_recovery_completed
    AIOKafkaConsumerThread._fetch_records = fetch_active_records
