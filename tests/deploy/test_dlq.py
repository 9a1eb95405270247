"""`switchboard dlq`: dead letters are shown with provenance and replayed to their source topic."""
import uuid

import pytest

from deploy.dlq import main
from switchboard.dlq import dead_letter
from switchboard.kafka import consumer, producer

pytestmark = pytest.mark.kafka


def test_replay_sends_events_back_and_keeps_webhook_bodies(kafka_bootstrap, monkeypatch, capsys):
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", kafka_bootstrap)
    marker = uuid.uuid4().hex
    out = producer({"bootstrap.servers": kafka_bootstrap})
    dead_letter(out, "agent-actions", f"event-{marker}", b"\xc3\x01event", stage="routing.decode",
                error="no routing file", partition=0, offset=7)
    dead_letter(out, "agent-actions", f"body-{marker}", b"{not json", stage="edge.parse", error="malformed")
    assert out.flush(10) == 0

    main(["show", "agent-actions-dlq"])
    shown = capsys.readouterr().out
    assert f'"key": "event-{marker}"' in shown and '"source.offset": "7"' in shown

    reader = consumer({"bootstrap.servers": kafka_bootstrap}, f"g-{marker}", **{"auto.offset.reset": "latest"})
    reader.subscribe(["agent-actions"])
    while not reader.assignment():
        reader.poll(0.2)
    main(["replay", "agent-actions-dlq"])
    replayed = []
    while (message := reader.poll(3.0)) is not None:
        replayed.append((message.key(), message.value()))
    reader.close()
    assert (f"event-{marker}".encode(), b"\xc3\x01event") in replayed
    assert not [k for k, _ in replayed if k == f"body-{marker}".encode()]


def test_only_dead_letter_topics_are_accepted(capsys):
    from switchboard.cli import main as cli

    assert cli(["dlq", "show", "agent-actions"]) == 2
    assert "not a dead-letter topic" in capsys.readouterr().err
