"""What the edge reads back from the facts for a visitor: their own history, their place in the queue."""
from __future__ import annotations

import time

import pytest

from connectors.web import WebConnector
from tests.sink.scenario import store_directly

from .conftest import ORIGIN, call, next_event, site_of, token

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def facts_site(kafka_bootstrap, directory, web_sessions, clickhouse_store, tmp_path):
    """A deployment whose edge reads the session's embedded ClickHouse."""
    async with site_of(kafka_bootstrap, directory, web_sessions, tmp_path,
                       clickhouse=lambda: clickhouse_store) as found:
        directory[1].put(found.tenant, "person", "ana", {"name": "Ana Pereira"}, "test")
        yield found


def visitor_said(site, session_id: str, message_id: str, text: str, at: int) -> dict:
    """The inbound-message the socket would have published for this visitor."""
    account = site.wm.account(site.tenant, site.wm.deployment(site.deployment)[1])
    body = (f'{{"session": {{"id": "{session_id}", "name": "Maria Lopez"}}, '
            f'"message": {{"id": "{message_id}", "sentAt": {at}, "text": "{text}"}}}}').encode()
    return {"topic": "inbound-messages", "record": WebConnector().parse(account, body, at).messages[0]}


def agent_said(site, session_id: str, outbound_id: str, text: str, at: int) -> dict:
    return {"topic": "outbound-approved", "record": {
        "outbound_id": outbound_id, "tenant_id": site.tenant, "conversation_id": "conv-h1",
        "thread_key": f"{site.tenant}:web:{site.deployment}:{session_id}", "channel": "web",
        "channel_account_id": site.deployment, "recipient_id": session_id, "agent_id": "ana", "kind": "reply",
        "created_at": at, "content": [{"type": "text", "text": text}]}}


async def history(site, session: dict, **params):
    response = await site.client.get(session["historyUrl"].removeprefix("http://edge.test"), params=params,
                                     headers={"Authorization": f"Bearer {session['historyToken']}", "Origin": ORIGIN})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_history_is_the_sessions_own_thread_newest_first_in_pages(facts_site, clickhouse_store):
    site, at = facts_site, int(time.time() * 1000) - 60_000
    mine = (await call(await site.connect(), "configureSession", token()))["body"]
    other = (await call(await site.connect(), "configureSession", token()))["body"]
    store_directly(clickhouse_store, [
        visitor_said(site, mine["sessionId"], "wm-h1", "Is the Pro plan monthly?", at),
        agent_said(site, mine["sessionId"], "ws-out-h2", "Yes, monthly.", at + 1000),
        visitor_said(site, mine["sessionId"], "wm-h3", "Thanks!", at + 2000),
        visitor_said(site, other["sessionId"], "wm-x1", "someone else", at + 1500)])
    first = await history(site, mine, pageSize="2")
    assert [m["text"] for m in first["messages"]] == ["Thanks!", "Yes, monthly."] and first["nextBefore"]
    agent = first["messages"][1]
    assert (agent["direction"], agent["senderName"], agent["messageId"]) == ("outbound", "Ana Pereira", "ws-out-h2")
    older = await history(site, mine, pageSize="2", before=first["nextBefore"])
    assert [(m["text"], m["direction"], m["senderName"]) for m in older["messages"]] == [
        ("Is the Pro plan monthly?", "inbound", "Maria Lopez")]
    assert older["nextBefore"] is None


async def test_a_waiting_visitor_is_told_their_place_in_the_queue(facts_site, clickhouse_store):
    site, now = facts_site, int(time.time() * 1000)
    socket, tok = await site.connect(), token()
    session = (await call(socket, "configureSession", tok))["body"]
    await call(socket, "onMessage", tok, message={"text": "I need help"})

    def started(conversation: str, thread_end: str, at: int) -> dict:
        return {"topic": "conversation-events", "record": {
            "event_id": f"ce-{conversation}", "tenant_id": site.tenant, "conversation_id": conversation,
            "thread_key": f"{site.tenant}:web:{site.deployment}:{thread_end}", "customer_id": None, "channel": "web",
            "channel_account_id": site.deployment, "type": "started", "sequence": 1, "occurred_at": at,
            "queue_id": "sales"}}
    store_directly(clickhouse_store, [started("conv-earlier", "ws-earlier", now - 5000),
                                      started("conv-mine", session["sessionId"], now)])
    status = await next_event(socket, "queueStatus")
    assert status["body"] == {"position": 2, "estimatedWaitSeconds": 120, "conversationId": "conv-mine"}
