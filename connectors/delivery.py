"""Delivery (`switchboard deliver`): approved outbound messages through the platforms' send APIs.

Per batch of `outbound-approved`: decode (undecodable → its DLQ), skip what the ledger says was
sent or failed, refuse what the channel cannot carry (→ outbound-rejected, before any call), write
`sending` to the ledger and wait for the broker, call the platform (retries inside `sending`),
then publish `sent`/`failed` (delivery-status + ledger) and only then commit the offsets.
A message found `sending` after a crash is resent only where the platform dedupes the resend
(LINE retry key, Open Messaging id); elsewhere it becomes failed "unknown outcome after restart".
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from collections import Counter, defaultdict

import aiohttp

from schemas import Codec, DecodeError, topic
from switchboard.dlq import DeadLetter, dead_letter_record
from switchboard.kafka import commit_or_defer, consume_available

from . import outcomes
from .base import Refused
from .ledger import LEDGER, Ledger
from .ledger_store import LedgerLocked
from .media.outbound import OutboundMedia, UploadFailed, media_keys
from .platform_sync import keep_synced
from .publisher import Publisher, Record
from .registry import CONNECTORS
from .sending import RetryPolicy, send, startup_line

log = logging.getLogger("switchboard.deliver")
APPROVED, STATUSES = topic("outbound-approved").name, topic("delivery-status").name
REJECTED = topic("outbound-rejected").name
GROUP = "switchboard-deliver"


class Delivery:
    """The delivery loop around injected clients (consumer, publisher, ledger, HTTP session)."""

    def __init__(self, accounts, consumer, publisher: Publisher, ledger: Ledger, session: aiohttp.ClientSession,
                 *, codec: Codec, policy: RetryPolicy = RetryPolicy(), clock=time.time, sleep=asyncio.sleep,
                 media: OutboundMedia | None = None, connectors: dict | None = None,
                 allow_outside: bool = False):
        self.accounts, self.consumer, self.publisher, self.ledger = accounts, consumer, publisher, ledger
        # The registry's connectors; `main` gives web its edge and key (connectors/web.py).
        self.connectors = CONNECTORS if connectors is None else connectors
        self.media = media  # None: messages with stored media (media_key) are refused
        self.session, self.codec, self.policy = session, codec, policy
        self.clock, self.sleep = clock, sleep
        self.needs_catch_up = True
        self.counters: Counter = Counter()
        self.outcomes: Counter = Counter()   # (channel, sent|failed|rejected|duplicate): /metrics
        self.retries: Counter = Counter()    # channel: platform calls repeated after a retriable error
        self.allow_outside = allow_outside   # SWITCHBOARD_ALLOW_OUTSIDE_TARGETS (connectors/sending.py)

    def on_assign(self, _consumer, _partitions) -> None:
        """Partitions moved: another instance may have written the ledger since we last read it."""
        self.needs_catch_up = True

    async def run(self, stop: asyncio.Event, batch_size: int = 100) -> None:
        """Deliver until `stop` is set."""
        while not stop.is_set():
            await self.step(batch_size)

    async def step(self, batch_size: int = 100, timeout: float = 0.5) -> int:
        """One batch: deliver, publish the outcomes, commit. Returns how many messages it read."""
        messages = await asyncio.to_thread(consume_available, self.consumer, batch_size, timeout)
        if self.needs_catch_up:
            self.needs_catch_up = False
            await asyncio.to_thread(self.ledger.catch_up)
        by_thread = defaultdict(list)  # one thread's messages in order; threads side by side
        for msg in messages:
            if msg.error() is None:
                by_thread[msg.key()].append(msg)
            else:
                log.warning("consumer: %s", msg.error())
        results = await asyncio.gather(*(self._in_order(batch) for batch in by_thread.values()))
        records = [r for records, _ in results for r in records]
        if records:
            await self._publish(records)
            self.counters["dead_letters"] += sum(isinstance(r, DeadLetter) for r in records)
        for _, entries in results:
            for entry in entries:
                self.ledger.remember(entry)
        if any(m.error() is None for m in messages):
            await asyncio.to_thread(commit_or_defer, self.consumer)   # a broker restart is not the end
        return len(messages)

    async def _in_order(self, batch: list) -> tuple[list[Record], list[dict]]:
        records, entries = [], []
        for msg in batch:
            more, written = await self.deliver(msg)
            records += more
            entries += written
        return records, entries

    async def deliver(self, msg) -> tuple[list[Record | DeadLetter], list[dict]]:
        """The outcome records of one outbound message (and the ledger entries among them)."""
        try:
            outbound = self.codec.decode(msg.value(), "outbound-message")
        except DecodeError as exc:  # published with the batch's outcomes, before the commit
            return [dead_letter_record(APPROVED, msg.key(), msg.value(), stage="deliver.decode", error=str(exc),
                                       partition=msg.partition(), offset=msg.offset(), headers=msg.headers())], []
        previous = self.ledger.state(outbound["outbound_id"])
        if previous in ("sent", "failed"):
            self.counters["duplicates_skipped"] += 1
            self.outcomes[(outbound["channel"], "duplicate")] += 1
            return [], []
        now = int(self.clock() * 1000)
        channel = self.connectors.get(outbound["channel"])
        account = self.accounts.get(outbound["channel"], outbound["channel_account_id"])
        if channel is None or account is None or account.tenant_id != outbound["tenant_id"]:
            return self._finish(outbound, "failed", now, code="no_account",
                                reason=f"no {outbound['channel']} account {outbound['channel_account_id']} is configured")
        try:
            if media_keys(outbound) and getattr(channel, "media_form", None) != "key":
                outbound = await self._with_media(channel, account, outbound)   # web: the edge signs them
            requests = channel.requests_for(account, outbound)
        except UploadFailed as failed:
            return self._finish(outbound, "failed", now, code=failed.result.error_code,
                                reason=f"media upload: {failed.result.reason}")
        except Refused as refused:
            self.counters["rejected"] += 1
            self.outcomes[(outbound["channel"], "rejected")] += 1
            entry = outcomes.attempt(outbound, "failed", now, code=refused.rule)
            return [self._record(REJECTED, outbound["thread_key"], "outbound-rejection",
                                 outcomes.rejection(outbound, refused.rule, refused.reason, now)),
                    self._record(LEDGER, outbound["outbound_id"], "delivery-attempt", entry)], [entry]
        if previous == "sending" and not all(r.idempotent for r in requests):
            self.counters["unknown_outcome"] += 1
            return self._finish(outbound, "failed", now, code=outcomes.UNKNOWN_AFTER_RESTART[0],
                                reason=outcomes.UNKNOWN_AFTER_RESTART[1])
        return await self._send_all(channel, outbound, requests)

    async def _with_media(self, channel, account, outbound: dict) -> dict:
        """Stored images as the channel takes them: signed public URL, or uploaded first (media id)."""
        if self.media is None:
            raise Refused("media.unavailable", "this delivery process has no media store (SWITCHBOARD_MEDIA_DIR)")
        return await self.media.prepare(channel, account, outbound)

    async def _send_all(self, channel, outbound: dict, requests) -> tuple[list[Record], list[dict]]:
        sending = outcomes.attempt(outbound, "sending", int(self.clock() * 1000))
        await self._publish([self._record(LEDGER, outbound["outbound_id"], "delivery-attempt", sending)])
        self.ledger.remember(sending)
        ids, attempts, result = [], 0, None
        for request in requests:
            result, calls = await send(self.session, channel, request, self.policy, sleep=self.sleep,
                                       allow_outside=self.allow_outside)
            attempts += calls
            self.retries[outbound["channel"]] += max(calls - 1, 0)
            if not result.ok and result.use_fallback and request.fallback is not None:
                result, calls = await send(self.session, channel, request.fallback, self.policy, sleep=self.sleep,
                                           allow_outside=self.allow_outside)
                attempts += calls  # e.g. LINE: the reply token expired, push instead
                self.retries[outbound["channel"]] += max(calls - 1, 0)
            if not result.ok:
                break
            ids += result.platform_message_ids
        state = "sent" if result.ok else "failed"
        return self._finish(outbound, state, int(self.clock() * 1000), ids=ids, attempts=attempts,
                            code=None if result.ok else result.error_code, reason=None if result.ok else result.reason)

    def _finish(self, outbound, state, now, *, ids=(), attempts=0, code=None, reason=None):
        self.counters[state] += 1
        self.outcomes[(outbound["channel"], state)] += 1
        if state == "failed":
            log.warning("%s %s failed: %s %s", outbound["channel"], outbound["outbound_id"], code, reason)
        entry = outcomes.attempt(outbound, state, now, ids=ids, attempts=attempts, code=code)
        report = outcomes.status(outbound, state, now, ids=ids, attempts=attempts, code=code, reason=reason)
        return [self._record(STATUSES, outbound["thread_key"], "delivery-status", report),
                self._record(LEDGER, outbound["outbound_id"], "delivery-attempt", entry)], [entry]

    async def _publish(self, records, attempts: int = 30) -> None:
        """Publish until the broker acknowledges (a broker restart is not the end of deliver): the
        records are deterministic, so a repeat after an unacknowledged try is absorbed downstream."""
        from .publisher import PublishError

        for attempt in range(attempts):
            try:
                return await self.publisher.publish(records)
            except PublishError as exc:
                if attempt == attempts - 1:
                    raise
                log.warning("publish not acknowledged (%s); retrying", exc)
                await self.sleep(min(0.5 * 2 ** attempt, 5.0))

    def _record(self, topic_name: str, key: str, subject: str, value: dict) -> Record:
        return Record(topic_name, key, self.codec.encode(subject, value))


def main(argv: list[str]) -> int:
    """`switchboard deliver`: deliver approved outbound messages until SIGTERM/Ctrl-C."""
    from switchboard.accounts import WithDeployments, load_accounts
    from switchboard.directory import DirectoryView
    from switchboard.kafka import consumer as make_consumer
    from switchboard.kafka import require_broker
    from switchboard.settings import load_settings

    parser = argparse.ArgumentParser(prog="switchboard deliver", description=__doc__.splitlines()[0])
    parser.add_argument("--group", default=GROUP, help="consumer group of outbound-approved")
    parser.add_argument("--instance", help="this instance's ledger store, <data_dir>/delivery-ledger/<instance> "
                                           "(default: the group; instances sharing a data directory need one each)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--attempts", type=int, default=RetryPolicy.attempts, help="calls per request before failing")
    parser.add_argument("--sync-interval", type=float, default=300.0,
                        help="seconds between platform syncs (templates, LINE quota: connectors/platform_sync.py)")
    args = parser.parse_args(argv)
    settings = load_settings()
    config, codec = settings.kafka_client_config(), Codec.from_settings(settings)
    file_accounts = load_accounts(settings.accounts_file)   # a broken file: its one line, before any broker
    require_broker(config)                                  # a broker down: one line naming the fix, exit 1
    from switchboard.logs import setup_logging

    setup_logging(settings, "deliver")
    log.info("%s", startup_line(settings.allow_outside_targets))
    ledger = _ledger(settings, config, codec, args.instance or args.group)   # first: a held store fails at once
    directory = DirectoryView(config, codec).start()   # web accounts are the directory's deployments
    directory.wait_ready(60)
    accounts = WithDeployments(file_accounts, directory)
    consumer = make_consumer(config, args.group)
    publisher = Publisher(config, transactional_id=None, timeout_s=10.0)
    try:
        asyncio.run(_serve(settings, accounts, consumer, publisher, ledger, codec, args))
    finally:
        consumer.close()
        ledger.close()
        publisher.close()
        directory.close()
    return 0


def _ledger(settings, config, codec, instance: str) -> Ledger:
    """The instance's ledger, its store under the data directory (connectors/ledger.py)."""
    path = settings.data_dir / "delivery-ledger" / instance
    try:
        return Ledger(config, codec, path, horizon_s=settings.ledger_horizon_hours * 3600)
    except LedgerLocked as exc:
        raise SystemExit(f"{exc}\nGive each deliver instance on this data directory its own --instance.") from exc


def _connectors(settings) -> dict:
    """The registry's connectors, web's with the edge it delivers to and the key it signs with."""
    from switchboard.auth import secret

    from .web import DELIVERIES_PATH, WebConnector, delivery_key

    return {**CONNECTORS, "web": WebConnector(settings.webmessaging_url() + DELIVERIES_PATH, delivery_key(secret(settings)))}


def _outbound_media(settings, session, policy: RetryPolicy) -> OutboundMedia:
    """The media store every edge replica writes, and URLs signed under the edge's public address."""
    from switchboard.auth import secret

    from .media.signing import Signer
    from .media.store import DirectoryStore

    store = DirectoryStore(settings.media_path(), settings.media_max_bytes)
    return OutboundMedia(store, Signer(secret(settings)), settings.public_url(), session, policy,
                         allow_outside=settings.allow_outside_targets)


class _CountedPublisher:
    """The publisher, counting what the broker acknowledged per topic (dead letters apart) for /metrics."""

    def __init__(self, publisher: Publisher, metrics):
        self.publisher, self.metrics = publisher, metrics

    async def publish(self, records) -> None:
        await self.publisher.publish(records)
        for record in records:
            self.metrics.count_out(record.topic)


def _observed(delivery: Delivery, metrics, lag, settings, assigned) -> dict:
    """Deliver's series read from its counters (and its consumer's lag, computed on the consuming
    thread); its readiness checks (the broker through an admin client: the consumer is not shared)."""
    from switchboard.kafka import admin
    from switchboard.observe import Collected, broker_reachable

    metrics.watch(
        lag,
        Collected("switchboard_delivery_outcomes", "outbound messages finished, per channel: sent, failed, "
                  "rejected (before any call), duplicate (the ledger had it)", ["channel", "outcome"],
                  lambda: list(delivery.outcomes.items())),
        Collected("switchboard_delivery_retries", "platform API calls repeated after a retriable error",
                  ["channel"], lambda: [((channel,), n) for channel, n in list(delivery.retries.items())]))
    return {"broker": broker_reachable(admin(settings.kafka_client_config())), "partitions_assigned": assigned.is_set}


async def _serve(settings, accounts, consumer, publisher, ledger, codec, args) -> None:
    import threading

    from switchboard.observe import ConsumerLag, CountingConsumer, Metrics, serve_observability

    stop, metrics, assigned, lag = asyncio.Event(), Metrics("deliver"), threading.Event(), ConsumerLag(args.group)
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        policy = RetryPolicy(attempts=args.attempts)
        delivery = Delivery(accounts, CountingConsumer(consumer, metrics, "deliver", lag),
                            _CountedPublisher(publisher, metrics), ledger, session, codec=codec, policy=policy,
                            media=_outbound_media(settings, session, policy), connectors=_connectors(settings),
                            allow_outside=settings.allow_outside_targets)

        def on_assign(kafka_consumer, partitions) -> None:
            delivery.on_assign(kafka_consumer, partitions)
            assigned.set()

        consumer.subscribe([APPROVED], on_assign=on_assign)
        checks = _observed(delivery, metrics, lag, settings, assigned)
        server = await serve_observability(metrics, checks, settings.deliver_host, settings.deliver_port,
                                           token=settings.metrics_token)
        syncing = asyncio.create_task(keep_synced(accounts, session, publisher, codec, stop, args.sync_interval,
                                                  allow_outside=settings.allow_outside_targets))
        await delivery.run(stop, args.batch_size)
        await syncing
        if server is not None:
            await server.cleanup()
        log.info("stopped: %s", dict(delivery.counters))
