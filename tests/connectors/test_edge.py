"""The edge against the real broker: every fixture in, normalized events out, failures answered right."""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connectors.base import ParseError
from connectors.edge import COUNTERS, default_transactional_id, make_app
from connectors.floods import Floods
from connectors.publisher import Publisher
from connectors.registry import connector
from schemas import Codec
from switchboard.dlq_cli import main as replay
from switchboard.settings import load_settings
from tests.connectors.edge_app import DLQ, Recorder, path_of
from tests.connectors.edge_app import start as start_in_process
from tests.kafka_fixture import free_port
from tests.connectors.helpers import (WEBHOOKS, FIXTURES, ACCOUNT_IDS, accounts_file, for_tenant, golden,
                                      load_test_accounts, new_tenant, prune, read_back, signed_headers, webhook)

pytestmark = [pytest.mark.kafka, pytest.mark.asyncio(loop_scope="session")]
CODEC = Codec()


async def start_edge(bootstrap, tmp_path, *, transactional=True, timeout_s=5.0):
    tenant = new_tenant()
    settings = load_settings(kafka_bootstrap=bootstrap)
    publisher = Publisher(settings.kafka_client_config(), timeout_s=timeout_s,
                          transactional_id=f"test-edge-{tenant}" if transactional else None)
    client = TestClient(TestServer(make_app(settings, load_test_accounts(tmp_path, tenant), publisher, CODEC), host="127.0.0.1"))
    await client.start_server()
    return client, publisher, tenant


@pytest.fixture
async def edge(kafka_bootstrap, tmp_path):
    client, publisher, tenant = await start_edge(kafka_bootstrap, tmp_path)
    yield client, tenant
    await client.close()
    publisher.close()


def comparable(msg, subject: str) -> dict:
    record = CODEC.decode(msg.value(), subject)
    record.pop("received_at", None)
    return prune({k: int(v.timestamp() * 1000) if isinstance(v, datetime) else v for k, v in record.items()})


def portfolio_of(record: dict, tenant: str) -> dict:
    """A golden account event moved from tenant acme to `tenant`."""
    return {**record, "tenant_id": tenant, "portfolio_key": tenant + record["portfolio_key"].removeprefix("acme")}


def mine(tenant):
    return lambda msg: msg.key().decode().startswith(f"{tenant}:")


async def post(client, channel, body, headers):
    return await client.post(f"/webhooks/{channel}/{ACCOUNT_IDS[channel]}", data=body, headers=headers)


@pytest.mark.parametrize("channel", WEBHOOKS)
async def test_every_fixture_with_a_valid_signature_yields_its_normalized_events(edge, kafka_bootstrap, channel):
    client, tenant = edge
    since = int(time.time() * 1000) - 1000
    expected = {"inbound-message": [], "delivery-status": [], "account-event": []}
    for path in sorted((FIXTURES / "webhooks" / channel).glob("*.json")):
        body = path.read_bytes()
        response = await post(client, channel, body, signed_headers(channel, body))
        assert response.status == 200, (path.name, await response.text())
        gold = golden(channel, path.stem)
        expected["inbound-message"] += [for_tenant(m, tenant) for m in gold["messages"]]
        expected["delivery-status"] += [for_tenant(s, tenant) for s in gold["statuses"]]
        expected["account-event"] += [portfolio_of(e, tenant) for e in gold.get("account_events", [])]
    for subject, topic, key in (("inbound-message", "inbound-messages", "thread_key"),
                                ("delivery-status", "delivery-status", "thread_key"),
                                ("account-event", "account-events", "portfolio_key")):
        found = read_back(kafka_bootstrap, topic, since, mine(tenant))
        assert all(m.key().decode() == comparable(m, subject)[key] for m in found)
        key = lambda r: (r["event_id"], json.dumps(r, sort_keys=True))  # noqa: E731
        assert sorted((comparable(m, subject) for m in found), key=key) == sorted(expected[subject], key=key)
    counts = client.server.app[COUNTERS]
    assert counts["messages"] == len(expected["inbound-message"]) and counts["bad_signature"] == 0


@pytest.mark.parametrize("channel", WEBHOOKS)
async def test_a_forged_signature_gets_401_and_publishes_nothing(edge, kafka_bootstrap, channel):
    client, tenant = edge
    since = int(time.time() * 1000) - 1000
    forged = webhook(channel, "batch")
    assert (await post(client, channel, forged, signed_headers(channel, forged, "forged"))).status == 401
    assert (await post(client, channel, forged, {"Content-Type": "application/json"})).status == 401
    canary = webhook(channel, "text")  # a valid one after the forgeries: only it may be on the topic
    assert (await post(client, channel, canary, signed_headers(channel, canary))).status == 200
    found = read_back(kafka_bootstrap, "inbound-messages", since, mine(tenant))
    assert [comparable(m, "inbound-message")["event_id"] for m in found] == [golden(channel, "text")["messages"][0]["event_id"]]


@pytest.mark.parametrize("channel", WEBHOOKS)
async def test_a_malformed_signed_body_gets_200_and_its_raw_bytes_go_to_the_dlq(edge, kafka_bootstrap, channel):
    client, tenant = edge
    since = int(time.time() * 1000) - 1000
    body = webhook(channel, "text")[:-20]  # truncated JSON, correctly signed: a 4xx would have the platform retry
    response = await post(client, channel, body, signed_headers(channel, body))
    assert response.status == 200 and "kept for replay" in await response.text()
    [dead] = read_back(kafka_bootstrap, "inbound-messages-dlq", since, mine(tenant))
    headers = {k: v.decode() for k, v in dead.headers()}
    assert dead.value() == body
    assert headers["source.topic"] == "inbound-messages" and headers["stage"] == "edge.parse"
    assert "JSON" in headers["error"] and headers["channel"] == channel and int(headers["time"]) >= since
    assert headers["channel_account_id"] == ACCOUNT_IDS[channel] and client.server.app[COUNTERS]["dead_letters"] == 1


async def test_an_oversized_body_gets_413(edge):
    client, _ = edge
    body = b"{" + b" " * (1024 * 1024) + b"}"
    assert (await post(client, "line", body, signed_headers("line", body))).status == 413


async def test_unknown_channel_or_account_gets_404(edge):
    client, _ = edge
    assert (await client.post("/webhooks/line/Unot-configured", data=b"{}")).status == 404
    assert (await client.post("/webhooks/telegram/123", data=b"{}")).status == 404
    assert (await client.post(f"/webhooks/web/{ACCOUNT_IDS['web']}", data=webhook("web", "text"))).status == 404


async def test_handshakes_over_http(edge):
    client, _ = edge
    ok = {"hub.mode": "subscribe", "hub.verify_token": "test-whatsapp-verify-token", "hub.challenge": "31337"}
    response = await client.get(f"/webhooks/whatsapp/{ACCOUNT_IDS['whatsapp']}", params=ok)
    assert (response.status, await response.text()) == (200, "31337")
    wrong = await client.get(f"/webhooks/messenger/{ACCOUNT_IDS['messenger']}", params={**ok, "hub.verify_token": "x"})
    assert wrong.status == 403
    crc = await client.get(f"/webhooks/x/{ACCOUNT_IDS['x']}", params={"crc_token": "challenge-1741944413"})
    assert (await crc.json())["response_token"] == "sha256=J8TZCD9oAaTnf2oEgCJb2FJ8r7VYJhjNjhs6K4POiiw="
    assert (await client.get(f"/webhooks/line/{ACCOUNT_IDS['line']}")).status == 400


def closed_port() -> str:
    return f"127.0.0.1:{free_port()}"  # nothing listens there: a broker that is down


@pytest.mark.parametrize("transactional", [True, False], ids=["transaction", "plain"])
async def test_broker_unavailable_gets_503_for_events_and_dead_letters(tmp_path, transactional):
    client, publisher, _ = await start_edge(closed_port(), tmp_path, transactional=transactional, timeout_s=1.0)
    try:
        started = time.monotonic()
        body = webhook("messenger", "batch")
        assert (await post(client, "messenger", body, signed_headers("messenger", body))).status == 503
        broken = body[:-5]
        assert (await post(client, "messenger", broken, signed_headers("messenger", broken))).status == 503
        assert time.monotonic() - started < 8
        echo = webhook("messenger", "echo")  # nothing to publish: answered without the broker
        assert (await post(client, "messenger", echo, signed_headers("messenger", echo))).status == 200
    finally:
        await client.close()
        publisher.close()


async def test_concurrent_webhooks_are_all_published_once(edge, kafka_bootstrap):
    client, tenant = edge
    since = int(time.time() * 1000) - 1000
    bodies = [webhook(c, "batch") for c in WEBHOOKS]
    answers = await asyncio.gather(*(post(client, c, b, signed_headers(c, b)) for c, b in zip(WEBHOOKS, bodies)))
    assert [a.status for a in answers] == [200] * len(WEBHOOKS)
    found = read_back(kafka_bootstrap, "inbound-messages", since, mine(tenant))
    assert Counter(m.key().decode().split(":")[1] for m in found) == {c: 3 for c in WEBHOOKS}


async def test_a_body_a_parser_bug_refused_is_replayed_into_the_events_a_live_webhook_gives(
        edge, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    client, tenant = edge
    since = int(time.time() * 1000) - 1000
    body, unreadable = webhook("whatsapp", "batch"), webhook("whatsapp", "text")[:-20]

    def parser_bug(account, raw, received_at_ms):
        raise ParseError("entry[1]: a second entry is not expected")  # the bug, fixed below
    with monkeypatch.context() as bug:
        bug.setattr(connector("whatsapp"), "parse", parser_bug)
        for refused in (body, unreadable):
            assert (await post(client, "whatsapp", refused, signed_headers("whatsapp", refused))).status == 200
    [letter, _] = read_back(kafka_bootstrap, "inbound-messages-dlq", since, mine(tenant))
    monkeypatch.setenv("SWITCHBOARD_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("SWITCHBOARD_ACCOUNTS_FILE", str(accounts_file(tmp_path, tenant)))

    command = ["replay", "inbound-messages-dlq", "--stage", "edge.", "--key-prefix", f"{tenant}:"]
    assert await asyncio.to_thread(replay, command) == 1  # a command: its own thread and event loop
    report = capsys.readouterr().out
    assert "1 webhook bodies as 3 events; 1 still unreadable" in report and "JSON" in report
    assert (await post(client, "whatsapp", body, signed_headers("whatsapp", body))).status == 200  # live, fixed
    found = read_back(kafka_bootstrap, "inbound-messages", since, mine(tenant))
    received = int(dict(letter.headers())["time"])
    replayed = [m for m in found  # received when the dead-lettered webhook arrived
                if round(CODEC.decode(m.value(), "inbound-message")["received_at"].timestamp() * 1000) == received]
    live = [m for m in found if m not in replayed]
    as_events = lambda msgs: sorted(((m.key(), m.headers(), comparable(m, "inbound-message")) for m in msgs), key=str)  # noqa: E731
    assert len(replayed) == len(live) == 3 and as_events(replayed) == as_events(live)
    assert sorted((e for _, _, e in as_events(replayed)), key=str) == sorted(
        (for_tenant(m, tenant) for m in golden("whatsapp", "batch")["messages"]), key=str)


# --- in-process: the app with a recording publisher (tests/connectors/edge_app.py), no broker ---

@pytest.fixture
async def in_process(tmp_path):
    """(client, recorder) of an edge whose unsigned budget is 3 requests, refilled 1 per 1,000 s."""
    recorder, now = Recorder(), [1000.0]
    client = await start_in_process(tmp_path, new_tenant(), recorder, max_body_bytes=64 * 1024,
                                    floods=Floods(rate=0.001, burst=3, clock=lambda: now[0]))
    yield client, recorder, now
    await client.close()


@pytest.mark.parametrize("channel", WEBHOOKS)
async def test_a_replayed_signed_webhook_gives_the_same_event_ids_which_dedupe_absorbs(in_process, channel):
    client, recorder, _ = in_process
    body = webhook(channel, "text")  # none of the platforms signs a timestamp: a replay is byte-identical
    for _ in range(2):
        assert (await client.post(path_of(channel), data=body, headers=signed_headers(channel, body))).status == 200
    ids = recorder.event_ids()
    assert len(ids) == 2 and set(ids) == {golden(channel, "text")["messages"][0]["event_id"]}


async def test_unsigned_floods_get_429_per_source_address_and_verified_traffic_is_never_limited(in_process):
    client, recorder, now = in_process
    forged = webhook("messenger", "text")
    answers = [(await client.post(path_of("messenger"), data=forged, headers=signed_headers("messenger", forged, "x"))).status
               for _ in range(5)]
    assert answers == [401, 401, 401, 429, 429]
    assert recorder.units == []
    for channel in WEBHOOKS:  # the same address, now over its budget: every signed webhook still passes
        body = webhook(channel, "batch")
        assert (await client.post(path_of(channel), data=body, headers=signed_headers(channel, body))).status == 200
    malformed = webhook("line", "text")[:-20]  # signed but unreadable: kept, never limited either
    assert (await client.post(path_of("line"), data=malformed, headers=signed_headers("line", malformed))).status == 200
    assert [r.value for r in recorder.records(DLQ)] == [malformed]
    now[0] += 1000  # a token back after 1/rate seconds
    assert (await client.post(path_of("line"), data=forged)).status == 401
    assert (await client.post(path_of("line"), data=forged)).status == 429
    counters = client.server.app[COUNTERS]
    assert (counters["bad_signature"], counters["flooded"]) == (4, 3)


async def test_a_body_over_the_limit_gets_413_whether_announced_or_chunked(in_process):
    client, recorder, _ = in_process
    body = b'{"events": [' + b" " * (64 * 1024) + b"]}"

    async def chunks():
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]
    announced = await client.post(path_of("line"), data=body, headers=signed_headers("line", body))
    chunked = await client.post(path_of("line"), data=chunks(), headers=signed_headers("line", body))
    assert (announced.status, chunked.status) == (413, 413) and recorder.units == []
    assert client.server.app[COUNTERS]["too_large"] == 2


async def test_the_default_transactional_id_is_unique_per_replica_and_stable_across_its_restarts(tmp_path):
    one, other = tmp_path / "replica-1", tmp_path / "replica-2"
    first = default_transactional_id(one, 8080, "edge-7f9c")
    assert default_transactional_id(one, 8080, "edge-7f9c") == first  # a restart fences its previous life
    assert first.startswith("switchboard-edge-edge-7f9c-8080-")
    assert default_transactional_id(other, 8080, "edge-7f9c") != first  # same host name, another data dir
    assert default_transactional_id(one, 8080, "edge-2b41") != first     # a shared volume, another host
    assert "0.0.0.0" not in first
