"""Delivery against the real broker and a fake platform: exact requests, retries, refusals, no double sends."""
from __future__ import annotations

import json
import time
from datetime import datetime

import aiohttp
import pytest
from confluent_kafka import TopicPartition

from connectors.delivery import Delivery
from connectors.ledger import Ledger
from connectors.publisher import Publisher, PublishError
from connectors.sending import RetryPolicy
from schemas import Codec
from switchboard.kafka import consumer as make_consumer, producer as make_producer
from tests.connectors.helpers import FIXTURES, load_test_accounts, new_tenant, read_back
from tests.connectors.platform_fake import start_fake_platform

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
CODEC = Codec()
OUT = FIXTURES / "outbound"


class Harness:
    """One test's world: a tenant, an approved-outbound topic, a fake platform, delivery instances."""

    def __init__(self, bootstrap, topic, group, tmp_path, fake, session):
        self.bootstrap, self.topic, self.group, self.fake, self.session = bootstrap, topic, group, fake, session
        self.tenant = new_tenant()
        self.accounts = load_test_accounts(tmp_path, self.tenant, fake.url)
        self.config = {"bootstrap.servers": bootstrap}
        self.since = int(time.time() * 1000) - 1000
        self.waits: list[float] = []
        self.opened = []

    def message(self, channel: str, name: str, **changes) -> dict:
        """A message fixture moved to this test's tenant with a unique outbound id."""
        message = json.loads((OUT / channel / f"{name}.message.json").read_text())
        message.update(tenant_id=self.tenant, outbound_id=f"{self.tenant}-{channel}-{name}",
                       thread_key=self.tenant + message["thread_key"].removeprefix("acme"), **changes)
        return message

    def approve(self, *messages: dict, raw: bytes | None = None, headers=None) -> None:
        producer = make_producer(self.config)
        for m in messages:
            producer.produce(self.topic, key=m["thread_key"], value=CODEC.encode("outbound-message", m))
        if raw is not None:
            producer.produce(self.topic, key=f"{self.tenant}:junk", value=raw, headers=headers)
        assert producer.flush(10) == 0

    def delivery(self, publisher=None) -> Delivery:
        consumer = make_consumer(self.config, self.group, **{"session.timeout.ms": 6000})
        ledger, publisher = Ledger(self.config, CODEC), publisher or Publisher(self.config, transactional_id=None)
        self.opened.append((consumer, ledger, publisher))

        async def no_sleep(seconds):
            self.waits.append(seconds)
        delivery = Delivery(self.accounts, consumer, publisher, ledger, self.session, codec=CODEC,
                            policy=RetryPolicy(attempts=3, base_s=0.01), sleep=no_sleep)
        # Manual assignment (offsets still committed to the group): no 3 s initial rebalance delay.
        consumer.assign([TopicPartition(self.topic, p) for p in range(2)])
        return delivery

    async def run(self, delivery: Delivery, until: int, timeout: float = 15.0) -> None:
        """Steps until `until` messages were read (outcomes published and committed)."""
        read, deadline = 0, time.monotonic() + timeout
        while read < until and time.monotonic() < deadline:
            read += await delivery.step(batch_size=50, timeout=0.2)
        assert read == until, f"read {read} of {until} messages"

    def statuses(self) -> list[dict]:
        found = read_back(self.bootstrap, "delivery-status", self.since, lambda m: m.key().decode().startswith(self.tenant))
        return [CODEC.decode(m.value(), "delivery-status") for m in found]

    def close(self) -> None:
        for consumer, ledger, publisher in self.opened:
            consumer.close()
            ledger.close()
            publisher.close()


@pytest.fixture
async def world(kafka_bootstrap, new_topic, group_id, tmp_path):
    fake, server = await start_fake_platform()
    async with aiohttp.ClientSession() as session:
        harness = Harness(kafka_bootstrap, new_topic(partitions=2), group_id, tmp_path, fake, session)
        yield harness
        harness.close()
    await server.close()


@pytest.mark.parametrize("channel", ["messenger", "whatsapp", "line", "x", "open"])
async def test_every_content_type_reaches_the_platform_in_its_exact_format(world, channel):
    names = sorted(p.name.removesuffix(".message.json") for p in (OUT / channel).glob("*.message.json"))
    world.approve(*(world.message(channel, n) for n in names))
    await world.run(world.delivery(), until=len(names))
    calls = world.fake.of(channel)
    def expected_request(name):  # the fixture's outbound id (Open carries it) becomes this test's
        original = json.loads((OUT / channel / f"{name}.message.json").read_text())["outbound_id"]
        text = (OUT / channel / f"{name}.request.json").read_text()
        return json.loads(text.replace(original, f"{world.tenant}-{channel}-{name}"))
    expected = [expected_request(n) for n in names]
    assert sorted((c["json"] for c in calls), key=json.dumps) == sorted(expected, key=json.dumps)
    sent = [s for s in world.statuses() if s["channel"] == channel]
    assert sorted(s["outbound_id"] for s in sent) == sorted(f"{world.tenant}-{channel}-{n}" for n in names)
    assert all(s["status"] == "sent" and s["attempts"] == 1 for s in sent)
    if channel != "open":  # the Open integration answers without ids
        assert all(s["platform_message_ids"] for s in sent)


async def test_an_unsupported_element_is_refused_before_any_call(world):
    sticker = world.message("x", "text", content=[{"type": "sticker", "sticker_package_id": "446", "sticker_id": "1988"}])
    world.approve(sticker)
    await world.run(world.delivery(), until=1)
    assert world.fake.calls == []
    [rejected] = read_back(world.bootstrap, "outbound-rejected", world.since, lambda m: m.key().decode().startswith(world.tenant))
    record = CODEC.decode(rejected.value(), "outbound-rejection")
    assert record["rule"] == "capability.sticker" and "sticker" in record["reason"]
    assert record["outbound_id"] == sticker["outbound_id"]


@pytest.mark.parametrize("channel,name,limited", [
    ("messenger", "text", (400, "messenger/error_rate_limit.response", {})),
    ("whatsapp", "text", (400, "whatsapp/error_130429.response", {})),
    ("line", "push_text", (429, "line/error_429_rate_limit.response", {"Retry-After": "3"})),
    ("x", "text", (429, "x/error_429.response", {})),
    ("open", "text", (503, None, {})),
])
async def test_a_rate_limit_then_success_delivers_exactly_once(world, channel, name, limited):
    world.fake.script[channel] = [limited]
    world.approve(world.message(channel, name))
    await world.run(world.delivery(), until=1)
    calls = world.fake.of(channel)
    assert len(calls) == 2 and calls[0]["raw"] == calls[1]["raw"]
    [status] = world.statuses()
    assert (status["status"], status["attempts"]) == ("sent", 2)
    if channel == "line":
        assert world.waits == [3.0]  # Retry-After honoured


@pytest.mark.parametrize("channel,answer,code", [
    ("messenger", (400, "messenger/error_outside_window.response", {}), "10/2018278"),
    ("whatsapp", (400, "whatsapp/error_131047.response", {}), "131047"),
    ("x", (403, "x/error_403.response", {}), "403"),
])
async def test_a_permanent_platform_error_becomes_a_failed_status_with_its_code(world, channel, answer, code):
    world.fake.script[channel] = [answer]
    world.approve(world.message(channel, "text"))
    await world.run(world.delivery(), until=1)
    assert len(world.fake.of(channel)) == 1
    [status] = world.statuses()
    assert (status["status"], status["error_code"], status["retriable"]) == ("failed", code, False)
    assert status["error_reason"] and not status["error_reason"].startswith("(#")


class CrashAfterSend(Publisher):
    """Publishes the `sending` ledger entry, then dies where the outcome would be published."""

    async def publish(self, records):
        if any(r.topic == "delivery-status" for r in records):
            raise PublishError("simulated crash between send and commit")
        await super().publish(records)


@pytest.mark.parametrize("channel,name,after_restart", [
    ("messenger", "text", "failed"),    # no idempotency key: never resent, reported unknown
    ("line", "push_text", "sent"),      # retry key: resent, LINE answers 409 = already accepted
])
async def test_a_crash_between_send_and_commit_sends_nothing_twice(world, channel, name, after_restart):
    message = world.message(channel, name)
    world.approve(message)
    crashing = world.delivery(CrashAfterSend({"bootstrap.servers": world.bootstrap}, transactional_id=None))
    with pytest.raises(PublishError):
        await world.run(crashing, until=1)
    crashing.consumer.close()  # the process is gone; its offsets were never committed
    crashing.publisher.close()  # (its thread would keep the producer alive past the broker)
    world.opened = [o for o in world.opened if o[0] is not crashing.consumer]
    await world.run(world.delivery(), until=1)
    calls = world.fake.of(channel)
    [status] = world.statuses()
    assert status["status"] == after_restart
    if channel == "line":  # resent with the same key; the platform accepted it once and answered 409
        assert len(calls) == 2 and len({c["headers"]["X-Line-Retry-Key"] for c in calls}) == 1
        assert len(world.fake.accepted_retry_keys) == 1
    else:
        assert len(calls) == 1 and status["error_code"] == "unknown_outcome"


class UnacknowledgedTwice(Publisher):
    """The broker restarting: the first two publishes of outcomes time out, then it answers again."""

    failures = 2

    async def publish(self, records):
        if any(r.topic == "delivery-status" for r in records) and self.failures:
            self.failures -= 1
            raise PublishError("Message timed out")
        await super().publish(records)


async def test_a_broker_restart_while_publishing_an_outcome_is_waited_out_and_sends_once(world):
    world.approve(world.message("whatsapp", "text"))
    delivery = world.delivery(UnacknowledgedTwice({"bootstrap.servers": world.bootstrap}, transactional_id=None))
    await world.run(delivery, until=1)
    [status] = world.statuses()
    assert status["status"] == "sent" and len(world.fake.of("whatsapp")) == 1
    assert world.waits[-2:] == [0.5, 1.0]   # backed off twice, then published


async def test_a_commit_refused_by_a_moving_coordinator_is_covered_by_the_next_batch(world):
    from confluent_kafka import KafkaError

    from tests.sink.test_consumer import CoordinatorMoves

    first = world.message("whatsapp", "text")
    second = first | {"outbound_id": f"{first['outbound_id']}-2"}
    world.approve(first)
    delivery = world.delivery()
    real = delivery.consumer
    delivery.consumer = CoordinatorMoves(real, KafkaError.NOT_COORDINATOR)   # the broker restarting
    await world.run(delivery, until=1)                                        # sent; its commit deferred
    world.approve(second)
    await world.run(delivery, until=1)
    committed = real.committed(real.assignment(), timeout=5)
    assert sum(max(c.offset, 0) for c in committed) == 2 and len(world.fake.of("whatsapp")) == 2


async def test_an_outbound_message_seen_again_is_not_sent_again(world):
    message = world.message("whatsapp", "text")
    world.approve(message)
    delivery = world.delivery()
    await world.run(delivery, until=1)
    world.approve(message)  # e.g. the policy processor replayed it
    await world.run(delivery, until=1)
    assert len(world.fake.of("whatsapp")) == 1 and delivery.counters["duplicates_skipped"] == 1


async def test_an_undecodable_outbound_goes_to_its_dlq_with_its_headers_and_is_counted(world):
    original = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    world.approve(raw=b"not avro", headers=original)
    delivery = world.delivery()
    await world.run(delivery, until=1)
    [dead] = read_back(world.bootstrap, "outbound-approved-dlq", world.since, lambda m: m.key().decode().startswith(world.tenant))
    headers = {k: v.decode() for k, v in dead.headers()}
    assert dead.value() == b"not avro" and headers["stage"] == "deliver.decode" and "source.offset" in headers
    assert dead.headers()[:1] == original
    assert isinstance(datetime.fromtimestamp(int(headers["time"]) / 1000), datetime)
    assert delivery.counters["dead_letters"] == 1
