"""The worker's recovery fixes: stream partitions are sought to committed offsets before they resume,
and no records are drained while every partition is paused."""
import asyncio
from unittest import mock

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams import recovery_order


def recovery(calls: list[str]) -> mock.MagicMock:
    """A Recovery stand-in whose consumer records the order of seek and resume."""
    rec = mock.MagicMock()
    rec.app.consumer_generation_id = 3
    rec.app.on_rebalance_complete.send = mock.AsyncMock()
    rec.app._fetcher.maybe_start = mock.AsyncMock()
    rec.app.consumer.assignment.return_value = {("inbound-messages", 0), ("conversation-state", 0)}
    rec.app.consumer.perform_seek = mock.Mock(side_effect=lambda: calls.append("seek"))
    rec.app.consumer.resume_partitions.side_effect = lambda tps: calls.append(f"resume {sorted(tps)}")
    rec.app.consumer.resume_flow.side_effect = lambda: calls.append("flow")
    rec.app.consumer._read_offset = {("inbound-messages", 0): 41}   # what perform_seek set: its committed offset
    rec.app.consumer.seek_wait = mock.Mock(side_effect=lambda offsets: calls.append(f"seek {offsets}"))
    rec._is_changelog_tp.side_effect = lambda tp: tp[0] == "conversation-state"
    rec._wait = mock.AsyncMock()
    rec.tables.values.return_value = []
    rec.add_future.side_effect = lambda coro: calls.append("watch") or coro.close()
    return rec


def test_partitions_resume_only_after_the_seek_to_committed_offsets():
    calls = []
    asyncio.run(recovery_order.on_recovery_completed(recovery(calls), generation_id=3))
    assert calls == ["seek", "resume [('inbound-messages', 0)]", "flow", "watch"]   # then watched (below)


def test_a_stream_partition_without_a_committed_offset_is_read_again_from_its_beginning_before_it_resumes():
    # perform_seek leaves it where it stands: records drained while it was paused would be lost.
    for committed in (None, 0):
        calls = []
        rec = recovery(calls)
        rec.app.consumer._read_offset = {("inbound-messages", 0): committed}
        asyncio.run(recovery_order.on_recovery_completed(rec, generation_id=3))
        assert calls == ["seek", "seek {('inbound-messages', 0): 0}", "resume [('inbound-messages', 0)]", "flow", "watch"]


def test_a_newer_rebalance_leaves_partitions_paused():
    calls = []
    asyncio.run(recovery_order.on_recovery_completed(recovery(calls), generation_id=2))
    assert calls == []


def test_no_active_partition_fetches_nothing_instead_of_everything(monkeypatch):
    # aiokafka's fetched_records reads an empty partition set as "all": the prefetched records of
    # paused input partitions would be drained, and faust would drop them.
    original = mock.AsyncMock(return_value={"tp": ["record"]})
    monkeypatch.setattr(recovery_order, "_fetch_records", original)
    fetch = recovery_order.fetch_active_records
    assert asyncio.run(fetch(mock.Mock(), mock.Mock(), set(), timeout=1.0)) == {}
    original.assert_not_awaited()
    assert asyncio.run(fetch(mock.Mock(), mock.Mock(), {"tp"}, timeout=1.0)) == {"tp": ["record"]}


def test_a_fetch_under_way_reads_the_active_partitions_as_they_stand_and_never_all(monkeypatch):
    # faust pauses and resumes a partition in the very set it passed; aiokafka reads that set again
    # each time it wakes, and an emptied one would mean every partition.
    live = {"inbound-messages-0", "conversation-state-0"}
    buffered = ("inbound-messages-0", "conversation-state-0", "routing-ticks-0", "assignments-0")

    async def fetched_records(thread, consumer, partitions, timeout=None, max_records=None):
        seen = [tp for tp in buffered if not partitions or tp in partitions]
        live.clear()   # recovery paused every partition while the fetch waited
        empty = [tp for tp in buffered if not partitions or tp in partitions]
        live.add("assignments-0")   # and resumed a stream partition
        return {"before": seen, "emptied": empty, "resumed": [tp for tp in buffered if not partitions or tp in partitions]}

    monkeypatch.setattr(recovery_order, "_fetch_records", fetched_records)
    got = asyncio.run(recovery_order.fetch_active_records(mock.Mock(), mock.Mock(), live, timeout=1.0))
    assert got == {"before": ["inbound-messages-0", "conversation-state-0"], "emptied": [], "resumed": ["assignments-0"]}


def test_apply_installs_the_fixes_and_refuses_an_unchecked_faust(monkeypatch):
    monkeypatch.setattr(Recovery, "on_recovery_completed", Recovery.on_recovery_completed)
    monkeypatch.setattr(AIOKafkaConsumerThread, "_fetch_records", AIOKafkaConsumerThread._fetch_records)
    recovery_order.apply()
    assert Recovery.on_recovery_completed is recovery_order.on_recovery_completed
    assert AIOKafkaConsumerThread._fetch_records is recovery_order.fetch_active_records
    monkeypatch.setattr(faust, "__version__", "0.16.0")
    with pytest.raises(RuntimeError, match="re-check"):
        recovery_order.apply()


def test_the_installed_versions_are_the_ones_the_patch_was_checked_against():
    # Fails on an upgrade of faust-streaming or aiokafka: re-check the patch, then the pins.
    recovery_order.check_versions()


def test_an_unchecked_aiokafka_is_refused_with_what_to_recheck(monkeypatch):
    import aiokafka

    monkeypatch.setattr(aiokafka, "__version__", "0.15.0")
    with pytest.raises(RuntimeError, match="aiokafka 0.14.0, not 0.15.0: re-check Fetcher.fetched_records"):
        recovery_order.check_versions()


def test_the_pins_are_the_versions_the_patch_accepts():
    import tomllib
    from pathlib import Path

    deps = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"faust-streaming=={recovery_order.CHECKED_FAUST}" in deps
    assert f"aiokafka=={recovery_order.CHECKED_AIOKAFKA}" in deps


def _watched(positions: dict, ends: dict, *, buffered=(), generation=3):
    """An app stand-in whose consumer reports `positions[tp]` (first sample, then second) and `ends`."""
    app = mock.MagicMock(consumer_generation_id=generation, in_recovery=False)
    consumer = app.consumer
    samples = {tp: iter(values) for tp, values in positions.items()}
    consumer.position = mock.AsyncMock(side_effect=lambda tp: next(samples[tp]))
    consumer.highwaters = mock.AsyncMock(return_value=ends)
    consumer.seek = mock.AsyncMock()
    consumer._buffered_partitions, consumer._paused_partitions, consumer._read_offset = set(buffered), set(), {}
    return app


def test_a_stream_partition_that_holds_records_and_never_moved_is_sought_to_its_committed_offset(caplog):
    from faust.types import TP

    stuck, moving, caught_up = TP("outbound-checks", 2), TP("outbound-checks", 0), TP("account-events", 1)
    app = _watched({stuck: [315, 315], moving: [40, 90], caught_up: [6, 6]}, {stuck: 655, moving: 120, caught_up: 6})
    found = asyncio.run(recovery_order.watch_resumed(app, 3, {stuck, moving, caught_up}, after=0))
    assert found == [stuck]
    app.consumer.seek.assert_awaited_once_with(stuck, 315)
    app.consumer.resume_partitions.assert_called_once_with([stuck])
    assert "outbound-checks[2] holds records (end 655) but stayed at 315" in caplog.text


def test_a_partition_held_back_by_a_full_buffer_or_a_newer_rebalance_is_left_alone():
    from faust.types import TP

    tp = TP("inbound-messages", 1)
    held = _watched({tp: [10, 10]}, {tp: 900}, buffered={tp})
    assert asyncio.run(recovery_order.watch_resumed(held, 3, {tp}, after=0)) == []
    newer = _watched({tp: [10, 10]}, {tp: 900}, generation=4)
    assert asyncio.run(recovery_order.watch_resumed(newer, 3, {tp}, after=0)) == []
    held.consumer.seek.assert_not_awaited()
    newer.consumer.seek.assert_not_awaited()
