"""The platform sync against the simulators: template catalogues and LINE quotas become account events."""
from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import aiohttp
import pytest

from connectors.platform_sync import definition, keep_synced, sync_platforms
from connectors.publisher import PublishError
from schemas import Codec, plain

pytestmark = pytest.mark.asyncio(loop_scope="session")
CODEC = Codec()


class Recorder:
    """Stands in for the edge's Publisher: records each all-or-nothing unit (or fails it)."""

    def __init__(self, fail: bool = False):
        self.units, self.fail = [], fail

    async def publish(self, records) -> None:
        if self.fail:
            raise PublishError("broker down")
        self.units.append(list(records))


def at_simulator(sim, client) -> list:
    """The simulator's accounts with their API base URLs moved to the test server."""
    base = str(client.make_url("")).rstrip("/")
    return [a.model_copy(update={"api_base_url": base + urlparse(a.api_base_url).path}) if a.api_base_url else a
            for a in sim.accounts]


async def until(condition, timeout: float = 5.0) -> None:
    """Wait for `condition()` to hold (it is expected to), at most `timeout` seconds."""
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def decoded(unit) -> dict[str, dict]:
    """channel → the account event, after an Avro round trip, checking each record's key."""
    events = {}
    for record in unit:
        event = plain(CODEC.decode(record.value, "account-event"))
        assert record.topic == "account-events" and record.key == event["portfolio_key"] == "acme:main"
        events[event["channel"]] = event
    return events


async def test_one_run_publishes_each_catalogue_and_quota_as_one_event(simulator):
    sim, client = simulator
    await client.post("/_sim/line/quota", json={"limit": 300, "used": 12})
    await client.post("/_sim/whatsapp/templates", json={"name": "order_update", "language": "ja", "status": "DISABLED"})
    recorder = Recorder()
    async with aiohttp.ClientSession() as session:
        results = await sync_platforms(at_simulator(sim, client), session, recorder, CODEC, clock=lambda: 1_760_000_000.0)
    assert [r.error for r in results] == [None, None] and len(recorder.units) == 1
    events = decoded(recorder.units[0])
    whatsapp, line = events["whatsapp"], events["line"]
    assert (whatsapp["kind"], whatsapp["waba_id"], whatsapp["attributes"]["pages"]) == ("templates_synced", "102290129340398", "1")
    by_key = {(t["name"], t["language"]): t for t in whatsapp["templates"]}
    assert len(by_key) == 21 and by_key[("order_update", "ja")]["status"] == "DISABLED"
    assert by_key[("appointment_reminder", "en_US")] | {"id": None} == {
        "name": "appointment_reminder", "language": "en_US", "category": "utility", "status": "APPROVED",
        "parameters": ["text", "text", "text"], "id": None}
    assert (by_key[("winter_sale", "en_US")]["status"], by_key[("login_code", "en_US")]["category"]) == ("PAUSED", "authentication")
    assert (line["kind"], line["quota_limit"], line["quota_used"]) == ("quota_synced", 300, 12)
    assert [r.line() for r in results][1] == "line/U4af4980629a1b2c3d4e5f60718293a4b: quota 12/300 messages this month"


async def test_a_platform_error_skips_that_account_and_the_next_run_retries(simulator):
    sim, client = simulator
    await client.post("/_sim/whatsapp/faults", json={"kind": "server_error"})
    recorder, accounts = Recorder(), at_simulator(sim, client)
    async with aiohttp.ClientSession() as session:
        failed = await sync_platforms(accounts, session, recorder, CODEC)
        assert [r.account.channel for r in failed if r.error] == ["whatsapp"] and "HTTP 500" in failed[0].line()
        assert set(decoded(recorder.units[0])) == {"line"}
        again = await sync_platforms(accounts, session, recorder, CODEC)
    assert [r.error for r in again] == [None, None] and set(decoded(recorder.units[1])) == {"whatsapp", "line"}


async def test_deliver_keeps_syncing_through_a_broker_outage_until_stopped(simulator):
    sim, client = simulator
    stop, recorder = asyncio.Event(), Recorder(fail=True)
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(keep_synced(at_simulator(sim, client), session, recorder, CODEC, stop, 0.01))
        # two runs, each failing to publish, neither raising; then the broker is back
        await until(lambda: len([r for r in sim.state.requests["line"] if r["path"].endswith("/consumption")]) >= 2)
        recorder.fail = False
        await until(lambda: recorder.units)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert set(decoded(recorder.units[0])) == {"whatsapp", "line"}


async def test_a_template_definition_counts_each_body_placeholder_once_in_order():
    graph = {
        "name": "shipping", "language": "pt_BR", "category": "UTILITY", "status": "APPROVED", "id": 9,
        "components": [{"type": "HEADER", "format": "IMAGE"},
                       {"type": "BODY", "text": "Olá {{first_name}}, o pedido {{order}} sai hoje ({{first_name}})."}]}
    assert definition(graph) == {"name": "shipping", "language": "pt_BR", "category": "utility", "status": "APPROVED",
                                 "parameters": ["text", "text"], "id": "9"}


async def test_a_run_with_a_failed_account_is_retried_soon_not_after_the_whole_interval(simulator):
    """deliver starts before the platforms may be up: the next try is seconds away, not the interval's 300 s."""
    sim, client = simulator
    await client.post("/_sim/whatsapp/faults", json={"kind": "server_error"})   # the first run fails for WhatsApp
    stop, recorder = asyncio.Event(), Recorder()
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(keep_synced(at_simulator(sim, client), session, recorder, CODEC, stop,
                                               interval_s=3600, first_retry_s=0.01))
        await until(lambda: any("whatsapp" in decoded(unit) for unit in recorder.units))
        stop.set()
        await asyncio.wait_for(task, 5)
    assert "whatsapp" not in decoded(recorder.units[0]) and len(recorder.units) == 2
