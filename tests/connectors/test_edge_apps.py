"""One webhook URL per platform app (a Meta app's Pages and numbers, an X app's accounts): every
entry routed to its account, entries for unknown ids counted and acknowledged, never spoiling the
batch (issue 16). In-process with a recording publisher; one test through the real broker."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.registry import rules
from connectors.edge import COUNTERS, INBOUND, STATUSES, make_app, replayed_events
from connectors.publisher import Publisher
from switchboard.accounts import load_accounts
from switchboard.settings import ConfigError, load_settings
from tests.connectors.edge_app import CODEC, DLQ, Recorder
from tests.connectors.helpers import FIXTURES, new_tenant, read_back

aio = pytest.mark.asyncio(loop_scope="session")
APPS = FIXTURES / "apps"
META_SECRET, X_SECRET, OTHER_SECRET = b"test-meta-app-secret", b"test-x-app-consumer-secret", b"test-other-app-secret"
PAGE_A, PAGE_B, OTHER_PAGE = "104729385610293", "104729385610311", "104729385610400"
NUMBER_A, NUMBER_B = "109876543210987", "109876543210995"
USER_A, USER_B = "1466859271035789312", "1466859271035789320"


def apps_accounts(tmp_path: Path, tenant: str, text: str | None = None):
    """tests/fixtures/apps/accounts.yaml for `tenant` (or `text` in its place), loaded as the edge loads it."""
    path = tmp_path / f"apps-{tenant}.yaml"
    text = text if text is not None else (APPS / "accounts.yaml").read_text()
    path.write_text(text.replace("TENANT", tenant).replace("http://API", "http://127.0.0.1:9"))
    return load_accounts(path)


def fixture(name: str) -> bytes:
    return (APPS / name).read_bytes()


def signed(channel: str, secret: bytes, body: bytes) -> dict[str, str]:
    scheme = rules(channel).signature
    return {scheme.header: scheme.render(secret, body), "Content-Type": "application/json"}


@pytest.fixture
async def edge(tmp_path):
    tenant, recorder = new_tenant(), Recorder()
    accounts = apps_accounts(tmp_path, tenant)
    client = TestClient(TestServer(make_app(load_settings(), accounts, recorder, CODEC), host="127.0.0.1"))
    await client.start_server()
    yield client, recorder, accounts
    await client.close()


def published(recorder: Recorder) -> set[tuple[str, str]]:
    """(account, platform message id) of each published inbound message."""
    decoded = (CODEC.decode(r.value, "inbound-message") for r in recorder.records(INBOUND))
    return {(e["channel_account_id"], e["platform_message_id"]) for e in decoded}


def receipts(recorder: Recorder) -> list[tuple[str, str]]:
    """(account, status) of each published delivery status."""
    decoded = (CODEC.decode(r.value, "delivery-status") for r in recorder.records(STATUSES))
    return [(e["channel_account_id"], e["status"]) for e in decoded]


async def stats(client) -> dict:
    answer = await client.get("/edge/stats")
    assert answer.status == 200
    return await answer.json()


@aio
async def test_a_meta_batch_for_two_pages_becomes_events_on_both_and_unknown_pages_are_counted(edge):
    client, recorder, _ = edge
    body = fixture("meta_messenger_batch.json")
    answer = await client.post("/webhooks/meta/acme-meta", data=body, headers=signed("messenger", META_SECRET, body))
    assert answer.status == 200
    assert {account for account, _ in published(recorder)} == {PAGE_A, PAGE_B}
    assert len(published(recorder)) == 3 and len(recorder.units) == 1   # one all-or-nothing unit
    assert receipts(recorder) == [(PAGE_B, "read")]
    counted = await stats(client)
    assert counted["unrouted.messenger.unknown_account"] == 1   # a Page nobody configured
    assert counted["unrouted.messenger.other_app"] == 1        # a Page another app's secret signs for
    assert counted.get("dead_letters", 0) == 0 and recorder.records(DLQ) == []


@aio
async def test_the_app_url_and_an_owned_account_url_give_the_same_events(edge):
    client, recorder, _ = edge
    body = fixture("meta_messenger_batch.json")
    for path in ("/webhooks/meta/acme-meta", f"/webhooks/messenger/{PAGE_A}"):
        assert (await client.post(path, data=body, headers=signed("messenger", META_SECRET, body))).status == 200
    by_app, by_account = ([(r.topic, r.key, without_arrival(r)) for r in unit] for unit in recorder.units)
    assert by_app == by_account and len(by_app) == 4


def without_arrival(record) -> dict:
    """The record's event without `received_at` (the two webhooks arrived at different times)."""
    subject = {INBOUND: "inbound-message", STATUSES: "delivery-status"}[record.topic]
    event = CODEC.decode(record.value, subject)
    event.pop("received_at", None)
    return event


@aio
async def test_a_whatsapp_batch_for_two_numbers_becomes_events_on_both(edge):
    client, recorder, _ = edge
    body = fixture("meta_whatsapp_batch.json")
    assert (await client.post("/webhooks/meta/acme-meta", data=body, headers=signed("whatsapp", META_SECRET, body))).status == 200
    assert {account for account, _ in published(recorder)} == {NUMBER_A, NUMBER_B}
    assert receipts(recorder) == [(NUMBER_B, "read")]
    assert (await stats(client))["unrouted.whatsapp.unknown_account"] == 1


@aio
async def test_a_waba_change_goes_to_the_first_number_of_its_waba_and_an_unknown_waba_is_counted(edge):
    client, recorder, _ = edge
    body = (FIXTURES / "webhooks" / "whatsapp" / "account_batch.json").read_bytes()   # template status, quality, flows
    elsewhere = body.replace(b'"102290129340398"', b'"102290129349999"')               # a WABA nobody configured
    for each in (body, elsewhere):
        assert (await client.post("/webhooks/meta/acme-meta", data=each, headers=signed("whatsapp", META_SECRET, each))).status == 200
    events = [CODEC.decode(r.value, "account-event") for r in recorder.records("account-events")]
    assert {e["channel_account_id"] for e in events} == {NUMBER_A} and len(events) == 2   # `flows` is ignored
    assert client.server.app[COUNTERS]["unrouted.whatsapp.unknown_waba"] == 3


@aio
async def test_an_x_app_webhook_routes_each_account_activity_by_for_user_id(edge):
    client, recorder, _ = edge
    for name in ("x_first_user.json", "x_second_user.json", "x_unknown_user.json"):
        body = fixture(name)
        assert (await client.post("/webhooks/x/acme-x", data=body, headers=signed("x", X_SECRET, body))).status == 200
    assert published(recorder) == {(USER_A, "1900412345678901301"), (USER_B, "1900412345678901302")}
    assert (await stats(client))["unrouted.x.unknown_account"] == 1
    # The per-account URL still works, signed with the app's consumer secret.
    body = fixture("x_second_user.json")
    assert (await client.post(f"/webhooks/x/{USER_B}", data=body, headers=signed("x", X_SECRET, body))).status == 200
    assert len(recorder.records(INBOUND)) == 3


@pytest.mark.parametrize("path,channel,name", [
    ("/webhooks/meta/acme-meta", "messenger", "meta_messenger_batch.json"),
    ("/webhooks/meta/acme-meta", "whatsapp", "meta_whatsapp_batch.json"),
    ("/webhooks/x/acme-x", "x", "x_first_user.json"),
])
@aio
async def test_a_forged_signature_at_an_app_url_gets_401_and_publishes_nothing(edge, path, channel, name):
    client, recorder, _ = edge
    body = fixture(name)   # signed with a real secret, but another app's
    assert (await client.post(path, data=body, headers=signed(channel, OTHER_SECRET, body))).status == 401
    assert (await client.post(path, data=body)).status == 401
    assert recorder.units == [] and client.server.app[COUNTERS]["bad_signature"] == 2


@aio
async def test_an_account_url_acknowledges_entries_for_other_pages_and_publishes_its_own(edge):
    client, recorder, _ = edge
    body = fixture("meta_messenger_batch.json")   # the Page with its own secret gets the app's batch
    answer = await client.post(f"/webhooks/messenger/{OTHER_PAGE}", data=body, headers=signed("messenger", OTHER_SECRET, body))
    assert answer.status == 200
    assert {account for account, _ in published(recorder)} == {OTHER_PAGE}
    counted = client.server.app[COUNTERS]
    assert (counted["unrouted.messenger.other_app"], counted["unrouted.messenger.unknown_account"]) == (3, 1)


@aio
async def test_app_handshakes_answer_with_the_apps_verify_token_and_consumer_secret(edge):
    client, _, _ = edge
    hub = {"hub.mode": "subscribe", "hub.verify_token": "test-meta-verify-token", "hub.challenge": "1158201444"}
    answer = await client.get("/webhooks/meta/acme-meta", params=hub)
    assert (answer.status, await answer.text()) == (200, "1158201444")
    assert (await client.get("/webhooks/meta/acme-meta", params={**hub, "hub.verify_token": "guess"})).status == 403
    crc = await client.get("/webhooks/x/acme-x", params={"crc_token": "challenge-1741944413"})
    expected = base64.b64encode(hmac.new(X_SECRET, b"challenge-1741944413", hashlib.sha256).digest()).decode()
    assert (await crc.json())["response_token"] == f"sha256={expected}"
    assert (await client.get("/webhooks/meta/no-such-app", params=hub)).status == 404


@aio
async def test_a_malformed_app_body_is_dead_lettered_and_replays_through_the_app(edge):
    client, recorder, accounts = edge
    good = fixture("meta_messenger_batch.json")
    broken = good.replace(b'"id": "104729385610311"', b'"id": null', 1)   # an entry without its Page id
    assert (await client.post("/webhooks/meta/acme-meta", data=broken, headers=signed("messenger", META_SECRET, broken))).status == 200
    [letter] = recorder.records(DLQ)
    headers = {k: v.decode() for k, v in letter.headers}
    assert letter.value == broken and (headers["app_platform"], headers["app"], headers["channel"]) == ("meta", "acme-meta", "messenger")
    assert recorder.records(INBOUND) == []   # all or nothing, as at an account's URL
    # Once the body can be read (here: the good one under the letter's headers), replay routes it as the live URL does.
    assert (await client.post("/webhooks/meta/acme-meta", data=good, headers=signed("messenger", META_SECRET, good))).status == 200
    live = [(r.topic, r.key, r.value) for r in recorder.units[-1]]
    replayed = replayed_events(accounts, CODEC, good, {**headers, "time": headers["time"]})
    assert {(r.topic, r.key) for r in replayed} == {(t, k) for t, k, _ in live} and len(replayed) == len(live)


def test_an_account_giving_another_secret_than_its_app_is_refused(tmp_path):
    text = (APPS / "accounts.yaml").read_text().replace(
        "        app: *acme-meta\n        access_token: test-messenger-second-page-token",
        "        app: *acme-meta\n        app_secret: a-stale-per-page-secret\n        access_token: test-messenger-second-page-token")
    with pytest.raises(ConfigError, match="app_secret differs from its app 'acme-meta'"):
        apps_accounts(tmp_path, "acme", text)


def test_one_app_name_written_twice_with_different_values_is_refused(tmp_path):
    text = (APPS / "accounts.yaml").read_text().replace(
        "        app: *acme-x\n", "        app: {name: acme-x, consumer_secret: another-consumer-secret}\n")
    with pytest.raises(ConfigError, match="x app 'acme-x' is written twice"):
        make_app(load_settings(), apps_accounts(tmp_path, "acme", text), Recorder(), CODEC)


def test_accounts_of_an_app_sign_with_its_secret_and_others_keep_their_own(tmp_path):
    accounts = {a.account_id: a for a in apps_accounts(tmp_path, "acme")}
    assert accounts[PAGE_B].signing_secrets() == [META_SECRET] == accounts[NUMBER_A].signing_secrets()
    assert accounts[PAGE_B].verify_token.get_secret_value() == "test-meta-verify-token"
    assert accounts[OTHER_PAGE].signing_secrets() == [OTHER_SECRET] and accounts[OTHER_PAGE].app is None


@pytest.mark.kafka
@aio
async def test_through_the_broker_a_meta_batch_for_two_pages_lands_on_both_accounts(kafka_bootstrap, tmp_path):
    tenant = new_tenant()
    settings = load_settings(kafka_bootstrap=kafka_bootstrap)
    publisher = Publisher(settings.kafka_client_config(), timeout_s=5.0, transactional_id=f"test-edge-apps-{tenant}")
    client = TestClient(TestServer(make_app(settings, apps_accounts(tmp_path, tenant), publisher, CODEC), host="127.0.0.1"))
    await client.start_server()
    try:
        since, body = int(time.time() * 1000) - 1000, fixture("meta_messenger_batch.json")
        answer = await client.post("/webhooks/meta/acme-meta", data=body, headers=signed("messenger", META_SECRET, body))
        assert (answer.status, await answer.text()) == (200, "EVENT_RECEIVED")
        # Kafka writes a commit's markers after it answers the commit: read until they are visible
        # (a read_committed end offset stops before them until then), under a deadline.
        deadline, found = time.monotonic() + 30, []
        while len(found) < 3 and time.monotonic() < deadline:
            found = read_back(kafka_bootstrap, INBOUND, since, lambda m: m.key().decode().startswith(f"{tenant}:"))
        pages = sorted(CODEC.decode(m.value(), "inbound-message")["channel_account_id"] for m in found)
        assert pages == [PAGE_A, PAGE_A, PAGE_B]
    finally:
        await client.close()
        publisher.close()
