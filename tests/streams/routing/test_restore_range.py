"""A routing domain is restored from its own key range of routing-state, not the whole table.

50,000 entities of 500 domains in a faust table over a real RocksDB store (and the memory store),
each domain's entries on its own partition as the worker writes them; one domain is restored
through the worker's wrappers (`_TextKeys` over `Staged`) and compared with the full-scan restore.
"""
from types import SimpleNamespace

import pytest

from schemas import Codec, topic
from streams.routing.agent import _TextKeys
from streams.routing.router import ACTIONS, REQUESTS, STATE_SUBJECT, Router
from streams.routing.snapshot import restore
from streams.sequencer import partition_of
from streams.staged import Staged, event_context

from ..stores import Event, put, table
from .drive import T0, action, request, tenant_config

import json

S = 1000
DOMAINS = 500
KEY = "tenant-7"                 # neighbours that share its text: tenant-70…79, tenant-7/vip
PARTITIONS = topic("routing-state").partitions
codec = Codec()
_configs: dict = {}
configs = SimpleNamespace(get=lambda tenant: _configs.setdefault(tenant, tenant_config(tenant)))


def drive(tenant: str) -> Router:
    """A domain of 3 agents and 96 conversations (offered, connected, waiting, one closed)."""
    router = Router({}, configs, codec)
    for agent in ("a1", "a2", "a3"):
        router.handle(ACTIONS, action(agent, "presence", T0, tenant, presence="on_queue"), 0)
    offers = []
    for n in range(96):
        outputs = router.handle(REQUESTS, request(f"c{n}", T0 + S + n, tenant), 0)
        offers += [o.value for o in outputs if o.subject == "agent-event" and o.value["type"] == "offered"]
    first = offers[0]
    router.handle(ACTIONS, action(first["agent_id"], "accept", T0 + 200 * S, tenant,
                                  conversation_id=first["conversation_id"], offer_id=first["offer_id"]), 0)
    router.handle(REQUESTS, request("c90", T0 + 201 * S, tenant, reason="closed", close_reason="inactivity"), 0)
    return router


@pytest.fixture(scope="module")
def entries() -> dict[str, bytes]:
    """Every domain's entries: KEY driven for real, the others copies of a driven template."""
    template = drive("template").table
    everything = dict(drive(KEY).table)
    others = [f"tenant-{i}" for i in range(DOMAINS) if i != 7] + ["tenant-7/vip"]
    for other in others:
        everything |= {f"{other}:{k.partition(':')[2]}": v for k, v in template.items()}
    assert len(everything) >= 50_000
    return everything


def load(store: str, tmp_path, entries: dict[str, bytes]):
    """The entries in a faust table, each domain's on its partition (as the worker wrote them)."""
    state = table(tmp_path, store=store, partitions=PARTITIONS)
    by_partition: dict[int, list] = {}
    for key, value in entries.items():
        by_partition.setdefault(partition_of(key.partition(":")[0], PARTITIONS), []).append((key.encode(), value))
    for partition, pairs in by_partition.items():
        put(state, partition, pairs)
    return state


def full_scan(entries: dict[str, bytes], key: str):
    """The restore as it was: every key of the table tested against the domain's prefix."""
    prefix = f"{key}:"
    found = [(k[len(prefix):], json.loads(codec.decode(entries[k], STATE_SUBJECT)["body"]))
             for k in list(entries) if k.startswith(prefix)]
    return restore(configs.get(key), found), len(found)


def fingerprint(domain, timers: bool = True) -> dict:
    """What a restored domain holds: entities, clock, wait lists and derived indexes (and timers)."""
    shape = {"agents": {i: a.to_dict() for i, a in domain.agents.items()},
             "conversations": {i: c.to_dict() for i, c in domain.conversations.items()},
             "finished": domain.finished, "now": domain.now,
             "waiting": {q: list(w) for q, w in domain.waiting.items() if len(w)},
             "reserved": {a: c for a, c in domain.reserved.items() if c}, "members": domain.members,
             "open": {m: a for m, a in domain.open.items() if a}}
    if timers:   # a live domain also holds stale timers that a restore does not derive
        shape["timers"] = sorted((due, kind, repr(args)) for due, _, kind, args in domain.timers)
    return shape


@pytest.mark.parametrize("store", ["rocksdb://", "memory://"])
def test_restoring_a_domain_visits_only_its_own_keys_and_gives_the_full_scan_s_domain(store, tmp_path, entries):
    staged = Staged(load(store, tmp_path, entries))
    router = Router(_TextKeys(staged), configs, codec)
    with event_context(Event(partition_of(KEY, PARTITIONS))):
        restored = router.state(KEY, KEY)
    expected, own = full_scan(entries, KEY)
    assert staged.ranges.metrics == {"reads": 1, "visited": own}
    assert 90 < own < 110 and len(restored.conversations) == 95 and "c90" in restored.finished
    assert fingerprint(restored) == fingerprint(expected)


def test_a_restore_sees_the_batch_s_staged_writes_and_deletions(tmp_path, entries):
    staged = Staged(load("rocksdb://", tmp_path, entries))
    router = Router(_TextKeys(staged), configs, codec)
    partition = partition_of(KEY, PARTITIONS)
    with event_context(Event(partition)):
        router.handle(REQUESTS, request("c-new", T0 + 300 * S, KEY), partition)
        router.handle(REQUESTS, request("c95", T0 + 301 * S, KEY, reason="closed", close_reason="abandoned"), partition)
        live = router.states[KEY]
        router.discard(KEY)                        # as after a failed event: rebuilt from table + batch
        restored = router.state(KEY, KEY)
    assert f"{KEY}:conv:c95".encode() in staged.pending and f"{KEY}:conv:c95".encode() in staged.table.data
    assert "c-new" in restored.conversations and "c95" not in restored.conversations and "c95" in restored.finished
    assert fingerprint(restored, timers=False) == fingerprint(live, timers=False)
