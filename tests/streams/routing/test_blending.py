"""Blending with other media: another system's work counts in capacity per media type and interruptibility."""
import copy
import json

import pytest

from streams.routing.config import parse_config
from streams.routing.model import CONNECTED, ON_QUEUE, AgentState, Work
from streams.routing.selection import capacity_problem
from streams.routing.snapshot import changes, restore
from streams.routing.work import apply_work

from .drive import FIXTURES, T0, Driver, tenant_config

S = 1000
WORK = json.loads((FIXTURES / "work.json").read_text())
BLOCKING = {"messaging": {"capacity": 2}, "voice": {"capacity": 1}}   # a call blocks messaging (the default)
BLENDED = {"messaging": {"capacity": 2}, "voice": {"capacity": 1, "interruptible_by": ["messaging"]}}


def _work(kind: str, at: int, work_id: str = "call-1", **fields) -> dict:
    return copy.deepcopy(WORK) | {"event_id": f"{work_id}:{kind}:{at}", "type": kind, "work_id": work_id,
                                  "occurred_at": at} | fields


def _send(d: Driver, kind: str, at: int, **fields):
    return d._keep(apply_work(d.state, _work(kind, at, **fields)))


def _config(utilization: dict):
    return parse_config(json.dumps({"default_queue": "q", "queues": {"q": {}}, "utilization": utilization,
                                    "agents": {"a1": {"queues": ["q"]}}}), "t")


def _agent(*media: str) -> AgentState:
    agent = AgentState("a1", presence=ON_QUEUE)
    for i, m in enumerate(media):
        agent.work[f"w{i}"] = Work(f"w{i}", m, CONNECTED, 0, f"w{i}", "q", "", "unknown", "")
    return agent


@pytest.mark.parametrize("utilization,held,offered,problem", [
    (BLOCKING, ["voice"], "messaging", "busy with voice, which messaging may not interrupt"),
    (BLENDED, ["voice"], "messaging", None),
    (BLENDED, ["voice"], "voice", "at capacity 1/1 voice"),
    (BLENDED, ["messaging"], "voice", "busy with messaging, which voice may not interrupt"),
    ({"messaging": {"capacity": 2, "interruptible_by": ["voice"]}, "voice": {"capacity": 1}},
     ["messaging", "messaging"], "voice", None),   # Genesys: a call may interrupt chats
    (BLENDED, ["messaging", "messaging"], "messaging", "at capacity 2/2 messaging"),
    ({"messaging": {"capacity": 2}}, ["email"], "messaging", "busy with email, which messaging may not interrupt"),
])
def test_capacity_per_media_and_who_may_interrupt_whom(utilization, held, offered, problem):
    assert capacity_problem(_config(utilization), _agent(*held), offered) == problem


def test_a_call_blocks_messaging_offers_until_it_ends_then_the_agent_is_filled_at_once():
    d = Driver(tenant_config(utilization=BLOCKING))
    d.on_queue("a1", T0)
    _send(d, "started", T0 + S)
    assert d.of("agent-event", "work_started")[0]["media"] == "voice"
    assert "messaging: busy with voice" in d.of("routing-decision", "work_started")[0]["reason"]
    d.request("c1", T0 + 2 * S)
    assert d.offers() == []
    queued = d.of("routing-decision", "queued")[-1]
    assert queued["candidates"] == [{"agent_id": "a1", "rank": None, "excluded": "busy with voice, which messaging "
                                     "may not interrupt", "proficiency": 0, "active": 0, "idle_since": None}]
    ended = _send(d, "ended", T0 + 90 * S)
    kinds = [r.value.get("kind") or r.value.get("type") for r in ended]
    assert kinds.index("work_ended") < kinds.index("offered") and d.offers() == [("c1", "a1")]
    assert d.of("routing-decision", "offered")[-1]["reason"].startswith("voice work ended: a1 has capacity")
    assert d.of("routing-decision", "work_ended")[0]["reason"].startswith("voice work call-1 ended after 89 s")


def test_a_call_that_may_be_interrupted_still_takes_its_own_capacity():
    d = Driver(tenant_config(utilization=BLENDED))
    d.on_queue("a1", T0)
    _send(d, "started", T0 + S)
    d.request("c1", T0 + 2 * S)
    assert d.offers() == [("c1", "a1")]
    _send(d, "requested", T0 + 3 * S, work_id="call-2", agent_id=None)
    assert d.offers() == [("c1", "a1")] and "at capacity 1/1 voice" in str(d.of("routing-decision", "queued"))


def test_a_call_revokes_the_messaging_offer_it_blocks_and_another_agent_gets_it():
    d = Driver(tenant_config(utilization=BLOCKING))
    d.on_queue("a1", T0)
    d.request("c1", T0 + S)
    d.on_queue("a2", T0 + 2 * S)
    _send(d, "started", T0 + 3 * S)
    assert d.of("agent-event", "offer_revoked")[0]["agent_id"] == "a1"
    assert d.offers() == [("c1", "a1"), ("c1", "a2")]


def test_replays_and_unknown_media_or_agents_change_nothing():
    d = Driver(tenant_config(utilization=BLOCKING))
    d.on_queue("a1", T0)
    event = _work("started", T0 + S)
    first = apply_work(d.state, event)
    assert apply_work(d.state, copy.deepcopy(event)) == []
    assert len([r for r in first if r.subject == "agent-event"]) == 1
    (fax,) = _send(d, "started", T0 + 2 * S, media="fax")
    assert fax.value["kind"] == "ignored" and "media fax has no utilization entry" in fax.value["reason"]
    (who,) = _send(d, "started", T0 + 3 * S, agent_id="zed")
    assert "agent zed is not in the routing file" in who.value["reason"]
    (none,) = _send(d, "ended", T0 + 4 * S, work_id="call-9")
    assert "a1 was not busy with it" in none.value["reason"]


def test_requested_work_is_offered_by_the_acd_and_its_system_hears_whom_on_work_assignments():
    d = Driver(tenant_config(utilization=BLOCKING))
    d.on_queue("a3", T0)
    d.on_queue("a1", T0 + S)
    _send(d, "requested", T0 + 2 * S, agent_id=None, queue_id="cards", skills={"cards": 3})
    (offer,) = d.of("agent-event", "offered")
    assert (offer["agent_id"], offer["media"], offer["conversation_id"]) == ("a1", "voice", "work:call-1")
    d.request("c1", T0 + 3 * S)   # a1 has an open voice offer: messaging goes to a3
    assert d.offers()[-1] == ("c1", "a3")
    _send(d, "started", T0 + 4 * S)   # answered on the phone = accepted
    (connected,) = [r for r in d.records if r.subject == "assignment" and r.value["type"] != "queued"]
    assert (connected.topic, connected.key, connected.value["type"]) == ("work-assignments", "call-1", "connected")
    assert [(r.topic, r.value["conversation_id"]) for r in d.records if r.value.get("type") == "queued"] == [
        ("assignments", "c1")]   # the conversation, not the call
    _send(d, "ended", T0 + 60 * S)
    assert [r.value["type"] for r in d.records if r.topic == "work-assignments"] == ["connected", "wrapup_started"]
    assert not [r for r in d.records if r.topic == "assignments" and r.key == "call-1"]


def test_cancelled_work_is_abandoned_and_a_replayed_request_is_recognised():
    d = Driver(tenant_config(utilization=BLOCKING))
    request = _work("requested", T0, agent_id=None)
    d._keep(apply_work(d.state, request))
    _send(d, "cancelled", T0 + 5 * S)
    assert d.of("routing-decision", "abandoned")[0]["conversation_id"] == "work:call-1"
    assert apply_work(d.state, copy.deepcopy(request)) == []


def test_other_work_survives_a_restart():
    d = Driver(tenant_config(utilization=BLOCKING))
    d.on_queue("a1", T0)
    _send(d, "started", T0 + S)
    entries = [(k.split(":", 1)[1], body) for k, _kind, body in changes(d.state)]
    again = restore(d.state.config, entries)
    work = again.agents["a1"].work["work:call-1"]
    assert (work.media, work.source) == ("voice", "telephony-sim") and "a1" not in again.open["messaging"]
