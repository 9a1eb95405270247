"""`switchboard dlq`: dead letters are shown with provenance and replayed to their source topic as
they were (webhook bodies: see tests/connectors/test_edge.py, replayed through the parser)."""
import json
import time
import uuid

import pytest
from confluent_kafka import TopicPartition

from switchboard.dlq import dead_letter_record, original_headers, produce_acked
from switchboard.dlq_cli import main
from switchboard.kafka import consumer, producer
from tests.connectors.helpers import read_back

# A source topic only the conversation processor's timer writes (no test drives it), so its end
# offsets move only when a replay sends something.
SOURCE = "conversation-timeouts"
TRACE = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("time", b"their own")]


@pytest.fixture
def dead_letters(kafka_bootstrap, monkeypatch):
    """Factory: dead_letters(*stages) writes one dead letter of SOURCE per stage; returns their key prefix."""
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", kafka_bootstrap)

    def write(*stages: str) -> str:
        prefix = f"t{uuid.uuid4().hex[:12]}:"
        produce_acked(producer({"bootstrap.servers": kafka_bootstrap}), [
            dead_letter_record(SOURCE, f"{prefix}{stage}", b"\xc3\x01" + stage.encode(), stage=stage,
                               error="ValueError: boom", partition=0, offset=7, headers=TRACE)
            for stage in stages])
        return prefix
    return write


def replayed(bootstrap: str, since_ms: int, prefix: str) -> list:
    found = read_back(bootstrap, SOURCE, since_ms, lambda m: m.key().decode().startswith(prefix))
    return [(m.key().decode().removeprefix(prefix), m.value(), m.headers()) for m in found]


def end_offsets(bootstrap: str, name: str) -> dict[int, int]:
    reader = consumer({"bootstrap.servers": bootstrap}, f"ends-{uuid.uuid4().hex}")
    try:
        parts = reader.list_topics(name, timeout=5).topics[name].partitions
        return {p: reader.get_watermark_offsets(TopicPartition(name, p), timeout=5)[1] for p in parts}
    finally:
        reader.close()


def test_original_headers_strip_only_the_provenance_appended_last():
    dead = dead_letter_record(SOURCE, "k", b"v", stage="sink.decode", error="x", partition=1, offset=2, headers=TRACE)
    assert original_headers(dead.headers) == TRACE and original_headers(None) == []


@pytest.mark.kafka
def test_show_prints_each_dead_letter_with_its_provenance(dead_letters, capsys):
    prefix = dead_letters("streams.conversations")
    assert main(["show", f"{SOURCE}-dlq", "--key-prefix", prefix]) == 0
    [shown] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert shown["key"] == f"{prefix}streams.conversations" and shown["headers"]["source.offset"] == "7"
    assert shown["headers"]["traceparent"] == TRACE[0][1].decode()


@pytest.mark.kafka
def test_replay_sends_the_original_key_bytes_and_headers_back(dead_letters, kafka_bootstrap):
    prefix, since = dead_letters("streams.conversations"), int(time.time() * 1000) - 1000
    assert main(["replay", f"{SOURCE}-dlq", "--key-prefix", prefix]) == 0
    assert replayed(kafka_bootstrap, since, prefix) == [("streams.conversations", b"\xc3\x01streams.conversations", TRACE)]


@pytest.mark.kafka
def test_replay_of_one_stage_leaves_the_others(dead_letters, kafka_bootstrap, capsys):
    prefix = dead_letters("streams.conversations.thread", "sink.decode", "streams.conversationsX")
    since = int(time.time() * 1000) - 1000
    assert main(["replay", f"{SOURCE}-dlq", "--key-prefix", prefix, "--stage", "streams.conversations."]) == 0
    assert [key for key, _, _ in replayed(kafka_bootstrap, since, prefix)] == ["streams.conversations.thread"]
    assert "replayed 1 records" in capsys.readouterr().out


@pytest.mark.kafka
def test_dry_run_prints_what_it_would_send_and_sends_nothing(dead_letters, kafka_bootstrap, capsys):
    prefix = dead_letters("sink.decode", "sink.insert")
    before = end_offsets(kafka_bootstrap, SOURCE)
    assert main(["replay", f"{SOURCE}-dlq", "--key-prefix", prefix, "--dry-run"]) == 0
    assert end_offsets(kafka_bootstrap, SOURCE) == before
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["key"] for line in lines[:2]] == [f"{prefix}sink.decode", f"{prefix}sink.insert"]
    assert all(json.loads(line)["to"] == SOURCE for line in lines[:2]) and lines[2].startswith("would replay 2 records")
    since = int(time.time() * 1000) - 1000
    assert main(["replay", f"{SOURCE}-dlq", "--key-prefix", prefix]) == 0  # the same for real: it does send
    assert len(replayed(kafka_bootstrap, since, prefix)) == 2


def test_only_dead_letter_topics_are_accepted(capsys):
    from switchboard.cli import main as cli

    assert cli(["dlq", "show", "agent-actions"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a dead-letter topic" in err and "switchboard dlq list" in err
