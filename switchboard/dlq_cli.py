"""`switchboard dlq`: look at dead letters and send them back once the cause is fixed.

A dead letter is the key, bytes and headers of a record a stage refused, or the body of a webhook
the edge could not parse (stage `edge.*`), plus provenance headers: source.topic,
source.partition, source.offset, stage, error, time. `replay`:

- sends a record back to its source topic as it was: same key, bytes and headers (only the
  provenance is stripped). Every consumer of that topic reads it again and absorbs the repeat
  (deterministic ids, dedupe, fact tables that replace);
- parses a webhook body again with its channel's connector and publishes the events as the edge
  publishes a live webhook's (the platforms do not send it again). A body still unreadable is
  reported and exit code 1 says so.

Nothing is removed from a dead-letter topic (it keeps 28 days); replaying twice sends twice.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import uuid
from typing import NamedTuple

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from schemas import catalogue

from .dlq import original_headers, produce_acked
from .errors import Unavailable, UserError
from .kafka import CLIENT_LOG, admin, consume_available, consumer, producer, require_broker
from .settings import load_settings

WEBHOOK_STAGES = ("edge.",)  # their value is a webhook body, not a record of the source topic


class Letter(NamedTuple):
    """One dead letter as read back: where it sits in its topic, key, bytes, all headers."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        """The last header called `name` (provenance comes last), decoded; "" when absent."""
        return next((v.decode(errors="replace") for k, v in reversed(self.headers) if k == name), "")

    def where(self) -> dict:
        """Position, key and stage, for printing."""
        return {"partition": self.partition, "offset": self.offset, "stage": self.header("stage"),
                "key": self.key.decode(errors="replace") if self.key else None}


def _dead_letter_topic(name: str):
    meta = catalogue().get(name)
    if meta is None or not meta.is_dlq:
        raise UserError(f"{name!r} is not a dead-letter topic; `switchboard dlq list` names them")
    return meta


def _read(settings, meta, args, timeout: float = 30.0) -> list[Letter]:
    """The first `args.limit` dead letters matching --stage/--key-prefix, read up to today's end."""
    reader = consumer(settings.kafka_client_config(), f"dlq-reader-{uuid.uuid4().hex}")
    found, deadline = [], time.monotonic() + timeout
    try:
        marks = {p: reader.get_watermark_offsets(TopicPartition(meta.name, p), timeout=10) for p in range(meta.partitions)}
        ends = {p: high for p, (low, high) in marks.items() if high > low}
        reader.assign([TopicPartition(meta.name, p, OFFSET_BEGINNING) for p in ends])
        while len(found) < args.limit and _behind(reader, meta.name, ends):
            if time.monotonic() > deadline:
                raise Unavailable(f"{meta.name} not read to its end in {timeout} s: is the broker at "
                                  f"{settings.kafka_bootstrap} well? (`switchboard kafka status`)")
            for m in consume_available(reader, 500, 0.2):
                if m.error() is None and m.offset() < ends[m.partition()]:
                    letter = Letter(m.partition(), m.offset(), m.key(), m.value(), list(m.headers() or []))
                    found += [letter] if _wanted(letter, args) else []
        return found[:args.limit]
    finally:
        reader.close()


def _behind(reader, name: str, ends: dict[int, int]) -> bool:
    """True while some partition's position is below the end offset taken when reading began."""
    return any(tp.offset < ends[tp.partition] for tp in reader.position([TopicPartition(name, p) for p in ends]))


def _wanted(letter: Letter, args) -> bool:
    return (letter.header("stage").startswith(args.stage)
            and (letter.key or b"").decode(errors="replace").startswith(args.key_prefix))


def _list(settings, args) -> int:
    from confluent_kafka.admin import OffsetSpec

    dlqs = [t for t in catalogue().values() if t.is_dlq]
    wanted = {TopicPartition(t.name, p): OffsetSpec.latest() for t in dlqs for p in range(t.partitions)}
    offsets = admin(settings.kafka_client_config()).list_offsets(wanted, request_timeout=10)
    ends = {tp.topic: f.result().offset for tp, f in offsets.items()}
    for t in dlqs:
        print(f"{t.name:32} {ends.get(t.name, 0):>8}  (dead letters of {t.dlq_of})")
    return 0


def _show(settings, args) -> int:
    for letter in _read(settings, _dead_letter_topic(args.topic), args):
        headers = {k: v.decode(errors="replace") for k, v in letter.headers}
        print(json.dumps({**letter.where(), "bytes": len(letter.value or b""), "headers": headers}))
    return 0


def _replay(settings, args) -> int:
    meta = _dead_letter_topic(args.topic)
    letters = _read(settings, meta, args)
    webhooks = [letter for letter in letters if letter.header("stage").startswith(WEBHOOK_STAGES)]
    records = [(letter, (letter.header("source.topic") or meta.dlq_of, letter.key, letter.value,
                         original_headers(letter.headers)))
               for letter in letters if not letter.header("stage").startswith(WEBHOOK_STAGES)]
    parsed, unreadable = _parse_again(settings, webhooks)
    if args.dry_run:
        _print_plan(records, parsed)
    else:
        _send(settings, meta, [record for _, record in records], [events for _, events in parsed])
    print(f"{'would replay' if args.dry_run else 'replayed'} {len(records)} records to their source topics and "
          f"{len(parsed)} webhook bodies as {sum(len(events) for _, events in parsed)} events; "
          f"{len(unreadable)} still unreadable, left in {meta.name}")
    for letter, error in unreadable:
        print(json.dumps({**letter.where(), "error": error}))
    return 1 if unreadable else 0


def _print_plan(records: list, parsed: list) -> None:
    """--dry-run: one line per dead letter, saying where it would go."""
    for letter, (name, _, value, headers) in records:
        print(json.dumps({**letter.where(), "to": name, "bytes": len(value or b""), "headers": len(headers)}))
    for letter, events in parsed:
        print(json.dumps({**letter.where(), "events": [{"to": e.topic, "key": e.key} for e in events]}))


def _send(settings, meta, records: list, units: list[list]) -> None:
    """The records to their source topics, then each webhook's events; all acknowledged, or Unavailable."""
    try:
        produce_acked(producer(settings.kafka_client_config()), records)
        asyncio.run(_publish_webhooks(settings, units))
    except RuntimeError as exc:  # connectors' PublishError is one too
        raise Unavailable(f"{exc}; nothing was removed from {meta.name}: replay again once the broker at "
                        f"{settings.kafka_bootstrap} answers (consumers absorb what was sent twice)") from None


def _parse_again(settings, webhooks: list[Letter]) -> tuple[list, list]:
    """(letter, events) for each webhook body today's parser reads, (letter, error) for the rest."""
    if not webhooks:
        return [], []
    from connectors.base import ParseError
    from connectors.edge_routing import replayed_events
    from schemas import Codec
    from switchboard.accounts import load_accounts

    accounts, codec, parsed, unreadable = load_accounts(settings.accounts_file), Codec.from_settings(settings), [], []
    for letter in webhooks:
        try:
            headers = {k: v.decode(errors="replace") for k, v in letter.headers}
            parsed.append((letter, replayed_events(accounts, codec, letter.value or b"", headers)))
        except ParseError as exc:
            unreadable.append((letter, str(exc)))
    return parsed, unreadable


async def _publish_webhooks(settings, units: list[list]) -> None:
    """Each webhook's events as one unit, through the edge's publisher (acks=all, idempotent)."""
    from connectors.publisher import Publisher

    # Plain idempotent produce, not transactions: a one-shot command has no stable transactional
    # id, and a unit left half-published is absorbed by event-id dedupe, as with `edge --no-transactions`.
    publisher = Publisher(settings.kafka_client_config(), transactional_id=None, timeout_s=10.0)
    try:
        await asyncio.gather(*(publisher.publish(events) for events in units if events))
    finally:
        await asyncio.to_thread(publisher.close)


def main(argv: list[str]) -> int:
    """List, show or replay dead letters."""
    parser = argparse.ArgumentParser(prog="switchboard dlq", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every dead-letter topic and how many records it holds").set_defaults(run=_list)
    for name, run, text in [("show", _show, "print the first dead letters with their headers"),
                            ("replay", _replay, "send dead letters back (webhook bodies: parsed again)")]:
        action = actions.add_parser(name, help=text)
        action.add_argument("topic", help="a dead-letter topic, e.g. inbound-messages-dlq")
        action.add_argument("--stage", default="", help="only this stage (prefix: `edge.`, `streams.conversations`)")
        action.add_argument("--key-prefix", default="", help="only keys starting so, e.g. one tenant: `acme:`")
        action.add_argument("--limit", type=int, default=1000, help="at most this many dead letters")
        action.set_defaults(run=run)
    actions.choices["replay"].add_argument("--dry-run", action="store_true",
                                           help="print what would be sent, send nothing")
    args, settings = parser.parse_args(argv), load_settings()
    if getattr(args, "topic", None):
        _dead_letter_topic(args.topic)   # a wrong name is the user's mistake, whatever the broker's state
    # A command, not a service: a broker it cannot reach is its one-line error, not librdkafka's lines.
    CLIENT_LOG.setLevel(logging.CRITICAL)
    require_broker(settings.kafka_client_config())
    try:
        return args.run(settings, args)
    except KafkaException as exc:
        raise Unavailable(f"Kafka at {settings.kafka_bootstrap}: {exc.args[0].str()} "
                          "(is it running? `switchboard kafka status`)") from None
