"""Property test: under any interleaving of presence changes, accepts, declines, timeouts, ends,
wrap-ups, arrivals and closes, no agent exceeds capacity, no conversation is lost or offered
twice at once, every offer takes the best waiting conversation, and nothing routable is left
waiting while an eligible agent has capacity."""
from contextlib import contextmanager
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.routing import matching
from streams.routing.domain import media
from streams.routing.model import ALERTING, CONNECTED, ON_QUEUE, WAITING, WRAPUP
from streams.routing.queueing import needs
from streams.routing.roster import profile
from streams.routing.selection import capacity_problem, skill_problem

from .drive import T0, Driver

S = 1000
AGENTS = ["a1", "a2", "a3"]  # capacity 2 each (fixture utilization)
TEXTS = ["hello", "card", "stolen card", "invoice"]  # priorities 0, 1, 5, 0

operation = st.one_of(
    st.tuples(st.just("presence"), st.sampled_from(AGENTS), st.sampled_from(["on_queue", "away", "offline"])),
    st.tuples(st.sampled_from(["accept", "decline", "end", "wrap_up", "close"]), st.integers(0, 20)),
    st.tuples(st.just("tick"), st.integers(1, 90)),
    st.tuples(st.just("request"), st.sampled_from(TEXTS)),
)


@contextmanager
def _offer_order_checked():
    """Wrap `offer` so every unreserved offer is checked against the waiting conversations."""
    original = matching.offer

    def offer(state, conv, agent_id, *args):
        if not conv.reserved_for and not conv.consulting_agent:
            mine = state.waiting[conv.queue_id].key_of(conv.conversation_id)
            agent, agent_profile = state.agents[agent_id], profile(state, agent_id)
            for queue_id in agent_profile.queues:
                for other_id in state.waiting[queue_id]:
                    other = state.conversations[other_id]
                    if state.waiting[queue_id].key_of(other_id) >= mine:
                        break
                    assert other.reserved_for or other.consulting_agent == agent_id or \
                        skill_problem(agent_profile, needs(state, other)) is not None, \
                        f"{conv.conversation_id} offered to {agent_id} before older eligible {other_id}"
        assert capacity_problem(state.config, state.agents[agent_id], media(state, conv)) is None
        return original(state, conv, agent_id, *args)

    with mock.patch.object(matching, "offer", offer):
        yield


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


def _apply(d: Driver, op: tuple, now: int, n: int) -> None:
    kind, arg = op[0], op[1]
    state = d.state
    alerting = sorted(c for c, v in state.conversations.items() if v.status == ALERTING)
    connected = sorted(c for c, v in state.conversations.items() if v.status == CONNECTED)
    if kind == "presence":
        d.on_queue(arg, now, op[2])
    elif kind in ("accept", "decline") and (conv := _pick(alerting, arg)):
        offer = state.conversations[conv]
        d.act(offer.agent_id, kind, now, conversation_id=conv, offer_id=offer.offer_id)
    elif kind == "end" and (conv := _pick(connected, arg)):
        d.act(state.conversations[conv].agent_id, "end", now, conversation_id=conv)
    elif kind == "wrap_up":
        works = sorted((a.agent_id, w.conversation_id) for a in state.agents.values()
                       for w in a.work.values() if w.state == WRAPUP)
        if pick := _pick(works, arg):
            d.act(pick[0], "wrap_up", now, conversation_id=pick[1], wrapup_code="done")
    elif kind == "close" and (conv := _pick(sorted(state.conversations), arg)):
        d.request(conv, now, reason="closed", request_id=f"close-{n}")
    elif kind == "request":
        d.request(f"n{n}", now, first_message_text=arg)


def _check_invariants(d: Driver) -> None:
    state = d.state
    for agent in state.agents.values():
        assert agent.held("messaging") <= state.config.capacity(agent.agent_id, "messaging")
    alerting_works = [(w.conversation_id, a.agent_id) for a in state.agents.values()
                      for w in a.work.values() if w.state == ALERTING]
    assert len(alerting_works) == len({c for c, _ in alerting_works}), "a conversation offered twice at once"
    for conv in state.conversations.values():
        in_queue = conv.conversation_id in state.waiting[conv.queue_id]
        assert in_queue == (conv.status == WAITING), f"{conv.conversation_id} lost ({conv.status})"
        if conv.status in (ALERTING, CONNECTED):
            assert conv.offer_id in state.agents[conv.agent_id].work
    for conv in state.conversations.values():  # nothing routable left waiting
        if conv.status != WAITING or conv.reserved_for:
            continue
        for agent_id in state.members[conv.queue_id]:
            agent = state.agents.get(agent_id)
            if agent and agent.presence == ON_QUEUE and agent_id != conv.consulting_agent and \
                    capacity_problem(state.config, agent, "messaging") is None:
                assert skill_problem(profile(state, agent_id), needs(state, conv)) is not None, \
                    f"{conv.conversation_id} waits while {agent_id} could take it"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(priorities=st.lists(st.sampled_from(TEXTS), min_size=10, max_size=10),
       ops=st.lists(operation, max_size=60), steps=st.lists(st.integers(0, 20), min_size=60, max_size=60))
def test_invariants_hold_under_any_interleaving(priorities, ops, steps):
    d = Driver()
    with _offer_order_checked():
        for i, text in enumerate(priorities):
            d.request(f"w{i}", T0 + i * S, first_message_text=text)
        now = T0 + 10 * S
        for n, op in enumerate(ops):
            now += steps[n] * S + (op[1] * S if op[0] == "tick" else 0)
            if op[0] == "tick":
                d.tick(now)
            else:
                _apply(d, op, now, n)
            _check_invariants(d)


def test_three_agents_of_capacity_two_take_ten_waiting_conversations_in_priority_as_age_order():
    d = Driver()
    texts = ["hello", "card", "stolen", "hello", "invoice", "stolen", "card", "hello", "card", "stolen"]
    with _offer_order_checked():
        for i, text in enumerate(texts):
            d.request(f"w{i}", T0 + i * 20 * S, first_message_text=text)
        for i, agent in enumerate(AGENTS):
            d.on_queue(agent, T0 + 300 * S + i)
    offered = [c for c, _ in d.offers()]
    keys = [d.state.conversations[c] for c in offered]
    virtual = [c.entered_at - c.priority * 60 * S for c in keys]
    assert len(offered) == 6 and virtual == sorted(virtual)
    assert offered[:3] == ["w2", "w5", "w9"]  # the three priority-5 conversations first
