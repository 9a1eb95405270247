"""Reply deadlines: the deadline-near conversation is offered first, the boost follows the domain
clock, and after the deadline the offer says template only (agent-event v5)."""
import pytest

from schemas import Codec
from streams.routing.config import DeadlineBoost, RoutingConfigError
from streams.routing.deadlines import boost, next_change
from streams.routing.snapshot import changes, restore

from .drive import T0, Driver, tenant_config

S, MIN = 1000, 60_000
CURVE = (DeadlineBoost(within_minutes=60, add=10), DeadlineBoost(within_minutes=240, add=5))


@pytest.mark.parametrize("left_ms, added", [
    (None, 0),                 # no window (the channel has none)
    (5 * 3600_000, 0),         # 5 h left: outside every step
    (240 * MIN, 5),            # exactly 4 h: inside the 4 h step
    (240 * MIN - 1, 5),
    (60 * MIN + 1, 5),
    (60 * MIN, 10),            # exactly 1 h: the 1 h step
    (30 * MIN, 10),
    (1, 10),
    (0, 0),                    # closed: no boost (only a template may answer, nothing to win)
    (-MIN, 0),
])
def test_the_boost_by_time_left(left_ms, added):
    deadline = None if left_ms is None else T0 + left_ms
    assert boost(CURVE, deadline, T0) == added


@pytest.mark.parametrize("left_ms, change_in", [
    (5 * 3600_000, 5 * 3600_000 - 240 * MIN),   # the 4 h boundary
    (90 * MIN, 30 * MIN),                       # the 1 h boundary
    (30 * MIN, 30 * MIN),                       # the deadline itself
    (0, None),
])
def test_the_next_change_is_a_boundary_of_the_curve(left_ms, change_in):
    due = next_change(CURVE, T0 + left_ms, T0)
    assert due == (None if change_in is None else T0 + change_in)


def test_equal_priority_the_conversation_whose_window_closes_in_30_minutes_is_offered_first():
    d = Driver()
    d.request("relaxed", T0, reply_deadline_at=T0 + 20 * 3600_000)
    d.request("closing", T0 + MIN, reply_deadline_at=T0 + 31 * MIN)
    d.on_queue("a1", T0 + 2 * MIN)
    assert [c for c, _ in d.offers()] == ["closing", "relaxed"]   # capacity 2: both, the closing one first
    offer = d.offer_of("closing")
    assert offer["reply_deadline_at"] == T0 + 31 * MIN and offer["template_only"] is False
    audit = d.of("routing-decision", "offered")[0]
    assert audit["conversation_id"] == "closing"
    assert "priority 10" in audit["reason"] and "reply window closes in 29 min (priority +10)" in audit["reason"]


def test_the_boost_rises_as_the_domain_clock_nears_the_deadline_and_survives_a_restart():
    d = Driver()
    d.request("first", T0)
    d.request("later", T0 + 8 * MIN, reply_deadline_at=T0 + 98 * MIN)   # 90 min left: +5 (virtual T0 + 3 min)
    assert list(d.state.waiting["general"]) == ["first", "later"]
    d.tick(T0 + 38 * MIN - 1)
    assert list(d.state.waiting["general"]) == ["first", "later"]
    d.tick(T0 + 38 * MIN)                                                # 60 min left: +10 (virtual T0 - 2 min)
    assert list(d.state.waiting["general"]) == ["later", "first"]
    assert "reply deadline nearer: priority 10" in d.of("routing-decision", "queued")[-1]["reason"]
    entries = [(k.split(":", 1)[1], body) for k, _, body in changes(d.state) if body is not None]
    restored = restore(d.state.config, entries)
    assert list(restored.waiting["general"]) == ["later", "first"]
    d.tick(T0 + 98 * MIN)                                                # closed: the boost is gone
    assert list(d.state.waiting["general"]) == ["first", "later"]


def test_after_the_deadline_the_offer_says_template_only():
    d = Driver()
    d.request("c1", T0, reply_deadline_at=T0 + 10 * MIN)
    d.on_queue("a1", T0 + 11 * MIN)
    offer = d.offer_of("c1")
    assert offer["template_only"] is True and offer["reply_deadline_at"] == T0 + 10 * MIN
    assert offer["reason"].endswith("reply window closed: template only")
    decoded = Codec().decode(Codec().encode("agent-event", offer), "agent-event")   # agent-event v5
    assert decoded["template_only"] is True


def test_a_request_that_says_template_only_is_offered_so():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0 + S, template_only=True)
    assert d.offer_of("c1")["template_only"] is True


def test_a_customer_message_that_moves_the_deadline_moves_the_conversation():
    d = Driver()
    d.request("first", T0)
    d.request("later", T0 + 8 * MIN, reply_deadline_at=T0 + 38 * MIN)    # 30 min left: +10
    assert list(d.state.waiting["general"]) == ["later", "first"]
    d.request("later", T0 + 9 * MIN, request_id="rr-later-again", reason="no_agent",
              reply_deadline_at=T0 + 9 * MIN + 24 * 3600_000)           # the customer wrote: 24 h again
    assert list(d.state.waiting["general"]) == ["first", "later"]
    assert "reply deadline moved: priority 0" in d.of("routing-decision", "queued")[-1]["reason"]
    d.tick(T0 + 39 * MIN)   # the old deadline's timer is stale: nothing moves
    assert list(d.state.waiting["general"]) == ["first", "later"]


def test_the_curve_is_configurable_per_queue_and_validated():
    config = tenant_config(deadline_boost=[{"within_minutes": 120, "add": 30}],
                           queues={"general": {"deadline_boost": []}, "cards": {}, "billing": {}})
    assert config.deadline_curve("general") == () and config.deadline_curve("cards")[0].add == 30
    assert tenant_config().deadline_curve("general") == CURVE           # the default
    with pytest.raises(RoutingConfigError, match="within_minutes twice"):
        tenant_config(deadline_boost=[{"within_minutes": 60, "add": 1}, {"within_minutes": 60, "add": 2}])
    with pytest.raises(RoutingConfigError, match="within_minutes"):
        tenant_config(deadline_boost=[{"within_minutes": 0, "add": 1}])
