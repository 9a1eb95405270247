"""Two tenants sharing one deployment (one broker, worker, sink, edge, deliver; issue 15 item 7):
customers of both write, agents of both sign in — both named `alice` — and nothing of one tenant
reaches the other: not an offer, event, conversation, history entry, report row, fact or audit fact.

No browser: the people act through the API and the push socket (aiohttp, on a loop of its own in a
thread, since this package's Playwright holds the main thread's loop). What must not arrive is
proven absent by a later record that must: tenant B's socket is read up to B's second message,
written after A's events had already reached A's socket through the same edge.
"""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable

import aiohttp
import pytest

from tests.kafka_fixture import wait_until
from tests.system_fixture import OTHER_ACCOUNT, OTHER_PEOPLE, OTHER_TENANT

pytestmark = pytest.mark.kafka
ACME = {"alice": "demo-password-alice", "sofia": "demo-password-sofia", "adam": "demo-password-adam"}
BETA = {name: person["password"] for name, person in OTHER_PEOPLE["people"].items()}


class Http:
    """aiohttp on its own loop thread; every call blocks until its answer."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.session = self.run(self._session())

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def call(self, method: str, url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        """(status, JSON body) of one request with the session token."""
        async def go():
            async with self.session.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status, json.loads(await r.text() or "{}")
        return self.run(go())

    def sign_in(self, edge: str, tenant: str, username: str, password: str) -> str:
        async def go():
            async with self.session.post(f"{edge}/api/v1/auth/login",
                                         json={"tenant": tenant, "username": username, "password": password}) as r:
                assert r.status == 200, await r.text()
                return (await r.json())["token"]
        return self.run(go())

    def socket(self, edge: str, token: str) -> list[dict]:
        """The agent's push socket, read in the background into the returned list."""
        events: list[dict] = []

        async def read():
            async with self.session.ws_connect(f"{edge}/api/v1/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        events.append(json.loads(message.data))
        asyncio.run_coroutine_threadsafe(read(), self.loop)
        return events

    def close(self) -> None:
        self.run(self.session.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def wait_for(what: str, found: Callable[[], object], timeout: float = 45):
    """`found()` once truthy (the shared poll with a deadline, named first here for readable call sites)."""
    return wait_until(found, timeout, what)


def first(events: list[dict], **fields) -> Callable[[], dict | None]:
    return lambda: next((e for e in list(events) if all(e.get(k) == v for k, v in fields.items())), None)


def sql(system, query: str) -> list[list]:
    """Rows of a query on the sink's ClickHouse interface, as its readonly user (JSONCompact)."""
    import urllib.request
    from base64 import b64encode

    password = (system.data_dir / "clickhouse-readonly-secret").read_text().strip()
    request = urllib.request.Request(f"{system.sink_url}/?default_format=JSONCompact", data=query.encode(),
                                     headers={"Authorization": "Basic " + b64encode(f"readonly:{password}".encode()).decode()})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["data"]


def count(system, query: str) -> int:
    """The one number a count query answers."""
    return int(sql(system, query)[0][0])


def test_two_tenants_in_one_deployment_never_see_each_others_data(running_system):
    system, run = running_system, uuid.uuid4().hex[:6]
    edge, sink = system.edge_url, system.sink_url
    http = Http()
    try:
        a = {name: http.sign_in(edge, "acme", name, pw) for name, pw in ACME.items()}
        b = {name: http.sign_in(edge, OTHER_TENANT, name, pw) for name, pw in BETA.items()}
        sockets = {"acme": http.socket(edge, a["alice"]), "beta": http.socket(edge, b["alice"])}
        for tenant, token in (("acme", a["alice"]), ("beta", b["alice"])):
            assert http.call("PUT", f"{edge}/api/v1/me/presence", token, {"presence": "available", "on_queue": True})[0] == 202
            wait_for(f"{tenant} alice on queue", first(sockets[tenant], type="presence_changed"))

        # customers of both write — the same person to both tenants, giving both the same email: acme's
        # on WhatsApp (its vip queue: alice), beta's on beta's own Open Messaging account
        anna = bert = system.customer("whatsapp", "open")
        email = f"same-{run}@example.com"
        system.customer_writes("whatsapp", anna, f"vip: acme secret {run}, my email is {email}")
        system.customer_writes("open", bert, f"hello beta {run}, my email is {email}", account_id=OTHER_ACCOUNT["account_id"])
        offers = {"acme": wait_for("the offer to acme's alice", lambda: next(
                      (e for e in list(sockets["acme"]) if e.get("type") == "offered"
                       and (e.get("thread_key") or "").endswith(f":{anna['phone']}")), None)),
                  "beta": wait_for("the offer to beta's alice", lambda: next(
                      (e for e in list(sockets["beta"]) if e.get("type") == "offered"
                       and (e.get("thread_key") or "").startswith(f"{OTHER_TENANT}:")), None))}
        for tenant, token in (("acme", a["alice"]), ("beta", b["alice"])):
            assert http.call("POST", f"{edge}/api/v1/offers/{offers[tenant]['offer_id']}/accept", token)[0] == 202
        conv = {t: offers[t]["conversation_id"] for t in offers}
        customer = {t: offers[t]["customer_id"] for t in offers}
        for t in sockets:
            wait_for(f"{t}'s assignment", first(sockets[t], type="assigned", conversation_id=conv[t]))
        system.customer_writes("whatsapp", anna, f"acme again {run}")
        wait_for("acme's message on acme's socket",
                 lambda: any(f"acme again {run}" in json.dumps(e) for e in list(sockets["acme"])))
        # everything of acme's reached the edge's hub: now beta's later message closes beta's socket record
        system.customer_writes("open", bert, f"beta again {run}", account_id=OTHER_ACCOUNT["account_id"])
        wait_for("beta's second message", lambda: any(f"beta again {run}" in json.dumps(e) for e in list(sockets["beta"])))

        # the push socket of beta's alice carried beta's events only (acme's alice has the same id)
        seen = [e for e in list(sockets["beta"]) if e.get("tenant_id")]
        assert seen and {e["tenant_id"] for e in seen} == {OTHER_TENANT}
        assert not any(conv["acme"] in json.dumps(e) or f"acme secret {run}" in json.dumps(e) for e in sockets["beta"])
        assert {e.get("conversation_id") for e in seen} <= {conv["beta"], None}

        # beta's agent: none of acme's offers or conversations, 403 on each of acme's doors
        _, mine = http.call("GET", f"{edge}/api/v1/conversations", b["alice"])
        assert [c["conversation_id"] for c in mine["conversations"]] == [conv["beta"]]
        assert http.call("GET", f"{edge}/api/v1/offers", b["alice"])[1] == {"offers": []}
        for path in ("", "/history", "/messages"):
            status, body = http.call("GET", f"{edge}/api/v1/conversations/{conv['acme']}{path}", b["alice"])
            assert status == 403 and "error" in body, (path, status, body)
        for method, path, body in [("POST", "/messages", {"content": [{"type": "text", "text": "x"}], "client_id": run}),
                                   ("POST", "/end", None), ("POST", "/transfer", {"queue_id": "general"})]:
            assert http.call(method, f"{edge}/api/v1/conversations/{conv['acme']}{path}", b["alice"], body)[0] == 403
        # beta's supervisor: acme's conversation does not exist for her; her views hold beta's people only
        for path in (f"/api/v1/conversations/{conv['acme']}", f"/api/v1/supervisor/conversations/{conv['acme']}/timeline",
                     f"/api/v1/supervisor/conversations/{conv['acme']}/decisions"):
            assert http.call("GET", edge + path, b["vera"])[0] == 404, path
        _, agents = http.call("GET", f"{edge}/api/v1/supervisor/agents", b["vera"])
        assert [(x["id"], x["load"]) for x in agents["agents"]] == [("alice", {"connected": 1})]
        _, queues = http.call("GET", f"{edge}/api/v1/supervisor/queues", b["vera"])
        assert [q["id"] for q in queues["queues"]] == ["general"]

        # the report API on the sink: beta's history and summary hold beta's rows only
        def history(token, who, **query):
            suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
            return http.call("GET", f"{sink}/api/v1/customers/{who}/history{suffix}", token)
        # both messages, each merged with its conversation (a message's fact names it once the conversation processor's event is in)
        own = wait_for("beta's history", lambda: (lambda r: r[1] if len(r[1].get("messages", [])) >= 2 and all(
            m["conversation_id"] for m in r[1]["messages"]) else None)(history(b["vera"], customer["beta"])))
        assert {m["conversation_id"] for m in own["messages"]} == {conv["beta"]}
        assert history(b["vera"], customer["acme"])[1]["messages"] == []
        assert history(b["vera"], customer["acme"], tenant="acme")[0] == 403
        acme_own = wait_for("acme's history", lambda: history(a["sofia"], customer["acme"])[1].get("messages"))
        assert all(m["conversation_id"] != conv["beta"] for m in acme_own)
        status, summary = http.call("GET", f"{sink}/api/v1/summary", b["bruno"])
        assert status == 200 and summary["tenant"] == OTHER_TENANT
        assert (summary["conversations"], summary["customers"]) == (1, 1), summary
        assert http.call("GET", f"{sink}/api/v1/summary?tenant=acme", b["bruno"])[0] == 403

        # the sink's facts: each conversation's rows are its own tenant's, and beta's rows are beta's only
        both = f"('{conv['acme']}', '{conv['beta']}')"
        for table in ("message_facts", "conversation_facts", "agent_event_facts", "assignment_facts"):
            rows = wait_for(f"{table} of both", lambda: (lambda r: r if len({c for _t, c in r}) == 2 else None)(
                sql(system, f"SELECT DISTINCT tenant_id, conversation_id FROM {table} WHERE conversation_id IN {both}")))
            assert sorted(rows) == sorted([["acme", conv["acme"]], [OTHER_TENANT, conv["beta"]]]), (table, rows)
        assert customer["acme"] != customer["beta"]    # one person, two tenants: two customers, never merged
        assert count(system, f"SELECT count() FROM identity_facts WHERE tenant_id = '{OTHER_TENANT}' AND "
                             f"(customer_id = '{customer['acme']}' OR merged_customer_id = '{customer['acme']}' "
                             f"OR has(candidates, '{customer['acme']}'))") == 0
        assert count(system, f"SELECT count() FROM message_facts WHERE tenant_id = '{OTHER_TENANT}' AND "
                             f"(conversation_id != '{conv['beta']}' OR thread_key NOT LIKE '{OTHER_TENANT}:%' "
                             f"OR positionUTF8(coalesce(text, ''), 'acme') > 0)") == 0

        # every read above is an audit fact of its reader's tenant; the refused ones read nothing
        assert http.call("GET", f"{edge}/api/v1/conversations/{conv['beta']}/history", b["alice"])[0] == 200
        expected = {("alice", "customer_history", conv["beta"], "edge"), ("vera", "customer_history", None, "sink")}
        reads = wait_for("beta's audit facts", lambda: (lambda r: r if expected <= {tuple(x[:4]) for x in r} else None)(
            sql(system, f"SELECT actor_id, read, conversation_id, origin, customer_id FROM access_audit_facts "
                        f"WHERE tenant_id = '{OTHER_TENANT}'")))
        assert {r[2] for r in reads} <= {conv["beta"], None} and {r[0] for r in reads} <= {"alice", "vera"}, reads
        assert count(system, f"SELECT count() FROM access_audit_facts WHERE tenant_id != 'acme' "
                             f"AND conversation_id = '{conv['acme']}'") == 0
    finally:
        http.close()
