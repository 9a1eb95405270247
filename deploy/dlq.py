"""`switchboard dlq`: look at dead letters and send them back once the cause is fixed.

A dead letter is the original bytes of a record (or of a webhook body the edge could not parse),
with provenance headers: source.topic, source.partition, source.offset, stage, error, time.
Replay produces the bytes unchanged to their source topic. Webhook bodies (stage `edge.*`) are not
events: they cannot go back on a topic; fix the parser and have the platform redeliver instead.
"""
from __future__ import annotations

import argparse
import json
import uuid

from confluent_kafka import TopicPartition

from schemas import catalogue
from switchboard.kafka import consumer, producer
from switchboard.settings import load_settings

NOT_REPLAYABLE_STAGES = ("edge.",)


def _dead_letters(settings, name: str, limit: int):
    """The first `limit` records of a dead-letter topic, each as (key, value, headers dict)."""
    meta = catalogue().get(name)
    if meta is None or not meta.is_dlq:
        from switchboard.cli import UserError

        raise UserError(f"{name!r} is not a dead-letter topic; see `switchboard dlq list`")
    reader = consumer(settings.kafka_client_config(), f"dlq-reader-{uuid.uuid4().hex}")
    reader.assign([TopicPartition(name, p, 0) for p in range(meta.partitions)])
    try:
        found = []
        while len(found) < limit:
            message = reader.poll(2.0)
            if message is None:
                break
            if message.error() is None:
                headers = {k: v.decode(errors="replace") for k, v in (message.headers() or [])}
                found.append((message.key(), message.value(), headers))
        return found
    finally:
        reader.close()


def _list(settings, args) -> None:
    from confluent_kafka.admin import AdminClient, OffsetSpec

    admin = AdminClient(settings.kafka_client_config())
    dlqs = [t for t in catalogue().values() if t.is_dlq]
    wanted = {TopicPartition(t.name, p): OffsetSpec.latest() for t in dlqs for p in range(t.partitions)}
    ends = {tp.topic: f.result().offset for tp, f in admin.list_offsets(wanted, request_timeout=10).items()}
    for t in dlqs:
        print(f"{t.name:32} {ends.get(t.name, 0):>8}  (dead letters of {t.dlq_of})")


def _show(settings, args) -> None:
    for key, value, headers in _dead_letters(settings, args.topic, args.limit):
        print(json.dumps({"key": key.decode(errors="replace") if key else None, "bytes": len(value or b""),
                          **headers}))


def _replay(settings, args) -> None:
    out, sent, skipped = producer(settings.kafka_client_config()), 0, 0
    for key, value, headers in _dead_letters(settings, args.topic, args.limit):
        if headers.get("stage", "").startswith(NOT_REPLAYABLE_STAGES):
            skipped += 1
            continue
        out.produce(headers.get("source.topic") or catalogue()[args.topic].dlq_of, key=key, value=value)
        sent += 1
    if out.flush(30):
        raise RuntimeError("the broker did not acknowledge every replayed record")
    print(f"replayed {sent}, skipped {skipped} webhook bodies (stage edge.*: not events)")


def main(argv: list[str]) -> int | None:
    """List, show or replay dead letters."""
    parser = argparse.ArgumentParser(prog="switchboard dlq", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every dead-letter topic and how many records it holds").set_defaults(run=_list)
    for name, run, text in [("show", _show, "print provenance of the first dead letters"),
                            ("replay", _replay, "send dead letters back to their source topic")]:
        action = actions.add_parser(name, help=text)
        action.add_argument("topic", help="a dead-letter topic, e.g. inbound-messages-dlq")
        action.add_argument("--limit", type=int, default=1000)
        action.set_defaults(run=run)
    args = parser.parse_args(argv)
    args.run(load_settings(), args)
    return 0
