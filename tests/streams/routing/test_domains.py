"""Routing domains of one tenant (docs/routing.md "Large tenants"): the file's checks, each input's
key and partition, each domain routed on its own, and a conversation moved by a transfer."""
from types import SimpleNamespace

import pytest
import yaml

from schemas import Codec, topic
from streams.routing.config import RoutingConfigError, parse_config
from streams.routing.keys import ACTIONS, REQUESTS, TICKS, WORK, input_keys
from streams.routing.moves import MOVED_FROM
from streams.routing.router import Router
from streams.sequencer import SOURCE_HEADER, Sequencer, partition_of

from .drive import FIXTURES, T0, action, request, tenant_config

FILE = yaml.safe_load((FIXTURES / "domains.yaml").read_text())
BUSINESS_ACCOUNT = "109876543210999"   # the business domain's channel account (domains.yaml)
INPUTS = topic("routing-inputs")
S = 1000


def bank(tenant: str = "bank", **changes):
    """The two-domain fixture file, with top-level keys replaced by `changes`."""
    return parse_config(yaml.safe_dump(FILE | changes, sort_keys=False), tenant)


@pytest.mark.parametrize("changes, problem", [
    ({"agents": {"x": {"queues": ["general", "vip"]}}},
     "agent 'x' is on queues of routing domains business and retail: an agent belongs to one domain .* "
     "give them the queues of one domain"),
    ({"domains": {"retail": {"queues": ["general", "cards", "vip"]}, "business": {"queues": ["vip", "billing"]}}},
     "queue 'vip' is in routing domains retail and business"),
    ({"domains": {"retail": {"queues": ["general", "cards"]}, "business": {"queues": ["vip"]}}},
     "queue 'billing' is in no routing domain"),
    ({"domains": {"retail": {"queues": ["general", "cards"], "channel_accounts": ["a"]},
                  "business": {"queues": ["vip", "billing"], "channel_accounts": ["a"]}}},
     "channel account 'a' is in routing domains retail and business"),
    ({"domains": {"re/tail": {"queues": ["general", "cards"]}, "business": {"queues": ["vip", "billing"]}}},
     "routing domain name 're/tail'"),
])
def test_a_file_whose_domains_do_not_partition_queues_and_agents_is_refused(changes, problem):
    with pytest.raises(RoutingConfigError, match=problem):
        bank(**changes)


def test_a_domain_routes_with_its_queues_its_agents_and_the_rules_that_send_to_them():
    whole = bank()
    retail, business = whole.for_domain("retail"), whole.for_domain("business")
    assert (set(retail.queues), set(retail.agents), [r.name for r in retail.rules], retail.default_queue) == \
        ({"general", "cards"}, {"r1", "r2", "trainee"}, ["fraud", "urgent"], "general")
    assert (set(business.queues), set(business.agents), [r.name for r in business.rules], business.default_queue) \
        == ({"vip", "billing"}, {"b1", "b2"}, ["invoices", "urgent"], "vip")
    assert (retail.tenant, retail.whole, retail.domain) == ("bank", whole, "retail")


def test_each_input_is_keyed_by_its_domain_and_a_tenant_without_domains_keeps_its_key():
    config = bank()
    assert input_keys(config, REQUESTS, request("c1", T0, "bank", channel_account_id=BUSINESS_ACCOUNT)) == \
        ["bank/business"]
    assert input_keys(config, REQUESTS, request("c2", T0, "bank")) == ["bank/retail"]   # the default domain
    agents = ("b2", "r2", "trainee", "nobody")
    assert [input_keys(config, ACTIONS, action(a, "presence", T0, "bank"))[0] for a in agents] == \
        ["bank/business", "bank/retail", "bank/retail", "bank/retail"]
    assert input_keys(config, TICKS, {"tenant_id": "bank", "tick_at": T0}) == ["bank/retail", "bank/business"]
    work = {"tenant_id": "bank", "type": "requested", "queue_id": "vip", "agent_id": None}
    assert input_keys(config, WORK, work) == ["bank/business"]
    assert input_keys(config, WORK, work | {"type": "started", "queue_id": "general", "agent_id": "b1"}) == \
        ["bank/business"]
    assert input_keys(tenant_config("t"), REQUESTS, request("c1", T0, "t")) is None


def test_the_sequencer_appends_an_input_on_its_domain_s_partition_or_leaves_it_alone():
    msg = SimpleNamespace(topic=topic("routing-ticks").name, key=b"bank", value=b"avro", partition=2,
                          timestamp=1.5, headers=[])
    hook = lambda m, record: input_keys(bank(), m.topic, record)   # noqa: E731 (as streams/routing/agent.py binds it)
    log = SimpleNamespace(log=INPUTS.name, partitions=INPUTS.partitions, keys=hook)
    tick = {"tenant_id": "bank", "tick_at": T0}
    assert [(o.key, o.partition, o.value) for o in Sequencer.append(log, msg, tick)] == \
        [(k, partition_of(k, INPUTS.partitions), b"avro") for k in ("bank/retail", "bank/business")]
    (unchanged,) = Sequencer.append(SimpleNamespace(**{**vars(log), "keys": None}), msg, tick)
    assert (unchanged.key, unchanged.partition, unchanged.headers) == \
        (b"bank", 2, [(SOURCE_HEADER, msg.topic.encode())])


class Bank:
    """A Router over a dict table; inputs keyed as the sequencer keys them, moves fed back like the log."""

    def __init__(self):
        self.config = bank()
        self.router = Router({}, SimpleNamespace(get=lambda tenant: self.config), Codec())
        self.records = []

    def send(self, source: str, record: dict) -> list:
        out = []
        for key in input_keys(self.config, source, record):
            out += self.router.handle(source, dict(record), None, key)
        for moved in [o for o in out if o.topic == INPUTS.name]:   # appended to the target domain's log
            assert moved.partition == partition_of(moved.key, INPUTS.partitions)
            out += self.router.handle(REQUESTS, dict(moved.value), moved.partition, moved.key)
        self.records += out
        return out

    def of(self, subject: str, kind: str) -> list[dict]:
        return [o.value for o in self.records
                if o.subject == subject and kind in (o.value.get("type"), o.value.get("kind"))]

    def offers(self) -> list[tuple[str, str]]:
        return [(v["conversation_id"], v["agent_id"]) for v in self.of("agent-event", "offered")]

    def accept(self, conv: str, at: int) -> None:
        offer = [v for v in self.of("agent-event", "offered") if v["conversation_id"] == conv][-1]
        self.send(ACTIONS, action(offer["agent_id"], "accept", at, "bank", conversation_id=conv,
                                  offer_id=offer["offer_id"]))


def test_each_domain_routes_its_own_conversations_under_its_own_key_and_stays_the_tenant_s():
    b = Bank()
    for agent in ("r1", "b1"):
        b.send(ACTIONS, action(agent, "presence", T0, "bank", presence="on_queue"))
    b.send(REQUESTS, request("c1", T0 + S, "bank"))
    b.send(REQUESTS, request("c2", T0 + S, "bank", channel_account_id=BUSINESS_ACCOUNT, first_message_text="urgent"))
    assert b.offers() == [("c1", "r1"), ("c2", "b1")]
    assert {o.value["tenant_id"] for o in b.records} == {"bank"}
    assert {k.split(":")[0] for k in b.router.table} == {"bank/retail", "bank/business"}
    assert {"bank/retail:conv:c1", "bank/business:conv:c2", "bank/business:agent:b1"} <= set(b.router.table)


def test_a_blind_transfer_to_another_domain_moves_the_conversation_and_its_later_requests_follow():
    b = Bank()
    for agent in ("r1", "b1"):
        b.send(ACTIONS, action(agent, "presence", T0, "bank", presence="on_queue"))
    b.send(REQUESTS, request("c1", T0 + S, "bank"))
    b.accept("c1", T0 + 2 * S)
    moved = b.send(ACTIONS, action("r1", "transfer", T0 + 3 * S, "bank", conversation_id="c1", target_queue_id="vip"))
    (forwarded,) = [o for o in moved if o.topic == INPUTS.name]
    assert (forwarded.key, forwarded.value["target_queue_id"], forwarded.value["attributes"]) == \
        ("bank/business", "vip", {MOVED_FROM: "bank/retail"})
    assert [(v["agent_id"], v["type"]) for v in b.of("assignment", "transferred")] == [("r1", "transferred")]
    assert b.offers()[-1] == ("c1", "b1")
    assert "bank/business:conv:c1" in b.router.table and "bank/retail:conv:c1" not in b.router.table
    b.accept("c1", T0 + 4 * S)
    closed = request("c1", T0 + 5 * S, "bank", reason="closed", close_reason="inactivity")   # keyed to retail
    assert input_keys(b.config, REQUESTS, closed) == ["bank/retail"]
    b.send(REQUESTS, closed)
    assert [(v["agent_id"], v["reason"]) for v in b.of("agent-event", "conversation_ended")] == \
        [("r1", "transferred"), ("b1", "customer closed (inactivity)")]   # forwarded: business ended it


def test_a_consult_transfer_to_another_domain_is_refused_naming_the_fix():
    b = Bank()
    b.send(ACTIONS, action("r1", "presence", T0, "bank", presence="on_queue"))
    b.send(REQUESTS, request("c1", T0 + S, "bank"))
    b.accept("c1", T0 + 2 * S)
    b.send(ACTIONS, action("r1", "transfer", T0 + 3 * S, "bank", conversation_id="c1", target_agent_id="b2",
                           transfer_mode="consult"))
    (refused,) = b.of("agent-event", "action_refused")
    assert refused["rule"] == "transfer.domain"
    assert "consult transfer stays in retail (transfer blind)" in refused["reason"]
    assert "bank/retail:conv:c1" in b.router.table


def test_a_tenant_without_domains_is_routed_under_its_tenant_id_as_before():
    router = Router({}, SimpleNamespace(get=lambda tenant: tenant_config(tenant)), Codec())
    router.handle(ACTIONS, action("a1", "presence", T0, "t", presence="on_queue"), 1, b"t")
    router.handle(REQUESTS, request("c1", T0 + S, "t"), 1)
    assert sorted(router.table) == ["t:agent:a1", "t:conv:c1", "t:domain"]
