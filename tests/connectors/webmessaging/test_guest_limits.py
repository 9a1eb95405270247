"""Guest floods per source address: new sessions, open sockets, history and upload requests.

The budgets run on a clock of the test's own (frozen until it moves it); a second source address
is a real one — the loopback 127.0.0.2 the client binds to — since the edge reads the caller's
address from the connection and trusts no header.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter

import aiohttp
import pytest

from connectors.edge import COUNTERS
from connectors.floods import Floods, source_of
from connectors.webmessaging.limits import SOCKET_RETRY_SECONDS, guest_floods
from connectors.webmessaging.sessions import SESSIONS, session_key
from switchboard.errors import UserError
from tests.connectors.helpers import read_back

from .conftest import ORIGIN, call, token

ON_BROKER = pytest.mark.kafka
IN_SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")   # the module's site lives in the session's loop
UPGRADE = {"Origin": ORIGIN, "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


class Frozen:
    """A clock that stands still until the test moves it."""

    def __init__(self):
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limited(site):
    """The module's site with fresh budgets of the edge's defaults on a frozen clock: (site, clock)."""
    clock = Frozen()
    site.wm.floods = guest_floods(clock=clock)
    yield site, clock
    site.wm.floods = None


@contextlib.asynccontextmanager
async def from_address(site, address: str = "127.0.0.2"):
    """A client whose connections come from `address` (another visitor's network)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))) as session:
        async def connect():
            return await session.ws_connect(site.client.make_url(f"/webmessaging/v1?deploymentId={site.deployment}"),
                                            headers={"Origin": ORIGIN})
        yield connect


def sessions_written(bootstrap: str, since_ms: int, keys: set[str]) -> list[str]:
    """The keys of the sessions topic's records since `since_ms` among `keys`, to the topic's end."""
    return [m.key().decode() for m in read_back(bootstrap, SESSIONS.name, since_ms, lambda m: m.key().decode() in keys)]


@ON_BROKER
@IN_SESSION_LOOP
async def test_the_eleventh_new_session_of_an_address_is_refused_and_nothing_is_kept_for_it(limited, kafka_bootstrap):
    site, clock = limited
    counters = lambda: site.client.server.app[COUNTERS]   # noqa: E731
    before = Counter(counters())
    since, socket = int(time.time() * 1000) - 1000, await site.connect()
    tokens = [token() for _ in range(11)]
    answers = [await call(socket, "configureSession", t) for t in tokens]
    assert [a["type"] for a in answers] == ["response"] * 10 + ["error"]
    refused = answers[10]
    assert refused["code"] == "rate_limited" and refused["retryAfter"] == 1.0   # 1 new session/s, burst 10
    keys = {session_key(site.deployment, t): t for t in tokens}
    assert sorted(sessions_written(kafka_bootstrap, since, set(keys))) == sorted(k for k, t in keys.items()
                                                                                 if t != tokens[10])
    assert site.wm.sessions.get(session_key(site.deployment, tokens[10])) is None
    assert counters()["guest_session_flooded"] == before["guest_session_flooded"] + 1
    assert counters()["guest_sessions"] == before["guest_sessions"] + 10

    clock.advance(refused["retryAfter"])   # one token back: the refused visitor's widget tries again
    retried = await call(socket, "configureSession", tokens[10])
    assert retried["type"] == "response" and retried["body"]["resumed"] is False
    assert (await call(socket, "configureSession", token()))["code"] == "rate_limited"


@ON_BROKER
@IN_SESSION_LOOP
async def test_a_known_token_resumes_whatever_the_address_spent(limited):
    site, _ = limited
    socket, mine = await site.connect(), token()
    first = (await call(socket, "configureSession", mine))["body"]
    for _ in range(9):
        assert (await call(socket, "configureSession", token()))["type"] == "response"
    assert (await call(socket, "configureSession", token()))["code"] == "rate_limited"   # the budget is spent
    for _ in range(3):   # a reload, another tab, a details update: each resumes, none is limited
        again = await call(await site.connect(), "configureSession", mine, attributes={"name": "Maria Lopez"})
        assert again["body"]["resumed"] and again["body"]["sessionId"] == first["sessionId"]
    fresh = await call(socket, "configureSession", mine, startNew=True)   # its own key: no new record kept
    assert fresh["type"] == "response" and fresh["body"]["sessionId"] != first["sessionId"]


@ON_BROKER
@IN_SESSION_LOOP
async def test_another_address_keeps_its_own_budget(limited):
    site, _ = limited
    socket = await site.connect()
    for _ in range(10):
        await call(socket, "configureSession", token())
    assert (await call(socket, "configureSession", token()))["code"] == "rate_limited"
    async with from_address(site) as connect:
        other = await connect()
        answers = [await call(other, "configureSession", token()) for _ in range(11)]
        await other.close()
    assert [a["type"] for a in answers] == ["response"] * 10 + ["error"]


@ON_BROKER
@IN_SESSION_LOOP
async def test_an_address_holding_its_most_sockets_gets_429_before_the_upgrade_until_one_closes(limited):
    site, _ = limited
    before = site.client.server.app[COUNTERS]["guest_socket_flooded"]
    held = [await site.client.ws_connect(f"/webmessaging/v1?deploymentId={site.deployment}", headers={"Origin": ORIGIN})
            for _ in range(site.wm.floods.max_sockets)]
    try:
        over = await site.client.get(f"/webmessaging/v1?deploymentId={site.deployment}", headers=UPGRADE)
        assert over.status == 429 and over.headers["Retry-After"] == str(SOCKET_RETRY_SECONDS)
        assert site.client.server.app[COUNTERS]["guest_socket_flooded"] == before + 1
        async with from_address(site) as connect:   # another network is not counted with this one
            other = await connect()
            assert (await call(other, "configureSession", token()))["type"] == "response"
            await other.close()
        await held.pop().close()
        await wait_for(lambda: site.wm.floods.open_sockets("127.0.0.1") < site.wm.floods.max_sockets)
        again = await site.connect()   # the edge saw one close: a slot again
        assert (await call(again, "ping", None))["type"] == "response"
    finally:
        for socket in held:
            await socket.close()


@ON_BROKER
@IN_SESSION_LOOP
async def test_history_and_uploads_beyond_the_request_budget_get_429_with_cors(limited):
    site, clock = limited
    before = site.client.server.app[COUNTERS]["guest_request_flooded"]
    session = (await call(await site.connect(), "configureSession", token()))["body"]
    path = session["historyUrl"].removeprefix("http://edge.test")
    headers = {"Authorization": f"Bearer {session['historyToken']}", "Origin": ORIGIN}
    statuses = [(await site.client.get(path, headers=headers)).status for _ in range(20)]
    assert statuses == [200] * 20   # a burst of 20 (5/s)
    over = await site.client.get(path, headers=headers)
    assert over.status == 429 and over.headers["Retry-After"] == "1"
    assert over.headers["Access-Control-Allow-Origin"] == ORIGIN   # the widget can read why
    upload = await site.client.put(f"/webmessaging/v1/uploads/att-x?deploymentId={site.deployment}", data=b"x")
    assert upload.status == 429   # the same budget: checked before any signature or byte
    clock.advance(0.2)
    assert (await site.client.get(path, headers=headers)).status == 200
    assert site.client.server.app[COUNTERS]["guest_request_flooded"] == before + 2


async def wait_for(condition, timeout: float = 5.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def test_retry_after_is_when_the_bucket_holds_a_token_again():
    now = [0.0]
    floods = Floods(rate=2.0, burst=2, clock=lambda: now[0])
    assert floods.retry_after("a") == 0 and floods.allow("a") and floods.allow("a") and not floods.allow("a")
    assert floods.retry_after("a") == 0.5 and floods.retry_after("b") == 0
    now[0] += 0.5
    assert floods.allow("a") and not floods.allow("a")


def test_an_ipv6_subscriber_is_one_source_and_a_mapped_ipv4_its_address():
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:203.0.113.7") == source_of("203.0.113.7") == "203.0.113.7"


@pytest.mark.parametrize("flags, named", [({"session_rate": 0}, "--guest-session-rate"),
                                          ({"session_burst": 0}, "--guest-session-burst"),
                                          ({"request_rate": -1}, "--guest-request-rate"),
                                          ({"max_sockets": 0}, "--guest-sockets")])
def test_refused_budgets_name_the_flag_that_fixes_them(flags, named):
    with pytest.raises(UserError, match=named):
        guest_floods(**flags)
