"""The fault tier (issue 15 §1): faults injected one after another while customers write on every channel.

Simulated customers write through every channel at a steady rate (tests/browser/load.py) while the
running system suffers, in turn: kill -9 of the stream worker mid-batch; a broker restart (same
ports, same data dir); the sink's store refusing writes (sink/faults.py); `deliver` exiting right
after a platform answered, before its commit (connectors/faults.py); the edge killed with webhooks
in flight. After each fault the test waits until the pipeline caught up by itself — every message
the edge accepted so far is a fact in its conversation, every approved reply has its outcome — and
prints one JSON line with the counts and recovery seconds per fault. Then, from the simulators' own
logs and the facts: every webhook answered 200 is exactly one message fact; no message became two;
each conversation's messages are complete and in the order their customer wrote them; no reply
reached a platform twice, except where the platform dedupes the repeat (Open Messaging on `id`,
LINE pushes on `X-Line-Retry-Key`, web visitors on `messageId`).

It shares the package's running system, which is whole again afterwards (every role restarted and
ready, the broker up) for the tests after it. `SWITCHBOARD_SOAK=1` (make soak-faults) runs the
faults in rounds for at least 10 minutes at 200 msg/s with a 60 s refusal.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest

from connectors.faults import ENV as DELIVER_FAULT, FAULT_EXIT_CODE
from sink.faults import refuse_writes
from tests.kafka_fixture import wait_until

from .load import Facts, Load, log_positions, requests_log, strings, unused_customers


@dataclass(frozen=True)
class Profile:
    """How hard and how long: msg/s, customers (each writes on every channel), refusal, minimum minutes."""

    rate: float
    customers: int
    refuse_s: float
    minutes: float


SOAK = os.environ.get("SWITCHBOARD_SOAK") == "1"
# The soak asks 200 msg/s; SWITCHBOARD_SOAK_RATE asks less where the machine cannot carry it with every
# role on it (a 2-core machine: the worker's producer buffer fills and facts fall minutes behind).
PROFILE = Profile(rate=float(os.environ.get("SWITCHBOARD_SOAK_RATE", 200)), customers=12, refuse_s=60, minutes=10) \
    if SOAK else \
    Profile(rate=30, customers=3, refuse_s=20, minutes=0)
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(2400 if SOAK else 300)]
CATCH_UP_S = 240 if SOAK else 90
DEDUPING = {"open", "line", "web"}   # platforms that absorb a repeated send (see the module docstring)
OUTCOME_UNKNOWN = {"unknown_outcome", "no_answer"}   # a reply failed so may still have reached its platform


def lag(facts: Facts, load: Load, moment: float) -> dict:
    """What the pipeline still owes: messages accepted before `moment` that are not a fact in a
    conversation yet, replies created before it without an outcome (sent, failed or refused)."""
    inbound = facts.inbound()
    missing = [s.text for s in load.answered_before(moment) if not any(r[1] and r[2] for r in inbound.get(s.text, []))]
    rejected = facts.rejected()
    unsettled = [oid for oid, _, _, statuses, _, _ in facts.outbound(moment)
                 if not set(statuses) & {"sent", "failed"} and oid not in rejected]
    return {"missing": missing, "unsettled": unsettled} if missing or unsettled else {}


def catch_up(facts: Facts, load: Load, moment: float, what: str) -> None:
    """Wait until the pipeline owes nothing from before `moment`; fail with what it still owes."""
    deadline, owed = time.monotonic() + CATCH_UP_S, {}
    while time.monotonic() < deadline:
        if not (owed := lag(facts, load, moment)):
            return
        time.sleep(0.5)
    raise AssertionError(f"the pipeline did not catch up {what} within {CATCH_UP_S} s: "
                         f"{len(owed['missing'])} messages without a fact (e.g. {owed['missing'][:3]}), "
                         f"{len(owed['unsettled'])} replies without an outcome (e.g. {owed['unsettled'][:3]})")


# --- the faults: each injects, brings the role back, and says when it struck ---------------------

def kill_worker(system, broker, load) -> tuple[float, dict]:
    worker = system.roles["worker"]
    wait_until(lambda: "streams worker ready" in worker.log(10_000), 90, "the worker to be ready")
    # Mid-batch: a message the edge accepted a moment ago is on its way through the worker.
    wait_until(lambda: any(s.accepted and time.time() - s.answered_at < 0.1 for s in load.sent[-50:]), 30,
               "a message just accepted")
    struck = time.time()
    code = worker.kill()
    worker.restart()
    return struck, {"exit_code": code}


def restart_broker(system, broker, load) -> tuple[float, dict]:
    struck = time.time()
    broker.stop()
    broker.start()
    return struck, {}


def refuse_sink_writes(system, broker, load) -> tuple[float, dict]:
    sink = system.roles["sink"]
    before = sink.log(100_000).count("inserts accepted again")
    struck = time.time()
    refuse_writes(system.sink_fault_file, PROFILE.refuse_s)
    sink.wait_until(lambda: "inserts refused" in sink.log(100_000), 30)
    sink.wait_until(lambda: sink.log(100_000).count("inserts accepted again") > before, PROFILE.refuse_s + 60)
    return struck, {"refused_s": PROFILE.refuse_s}


def kill_deliver(system, broker, load) -> tuple[float, dict]:
    deliver = system.roles["deliver"]
    deliver.restart({DELIVER_FAULT: "2"})   # exits right after the platform answered its 2nd send
    wait_until(lambda: deliver.proc.poll() is not None, 120, "deliver to reach its fault point")
    struck = time.time()
    code = deliver.proc.returncode
    assert code == FAULT_EXIT_CODE, f"deliver exited with {code}, not at its fault point:\n{deliver.log()}"
    deliver.restart()
    return struck, {"exit_code": code}


def kill_edge(system, broker, load) -> tuple[float, dict]:
    edge = system.roles["edge"]
    wait_until(lambda: [s for s in load.in_flight() if not s.lane.startswith("web:")], 30, "a webhook in flight")
    struck = time.time()
    code = edge.kill()
    edge.restart()
    return struck, {"exit_code": code}


FAULTS = [kill_worker, restart_broker, refuse_sink_writes, kill_deliver, kill_edge]


def inject(fault, system, broker, facts: Facts, load: Load) -> dict:
    """One fault under load; its figures once the pipeline caught up with what came before it."""
    struck, extra = fault(system, broker, load)
    back = time.time()
    catch_up(facts, load, back, f"after {fault.__name__}")
    recovered = time.time()
    window = load.between(struck - 20, back)   # in flight when it struck, or sent while it lasted
    refused = Counter(s.lane.split(":")[0] for s in window if not s.accepted)   # e.g. 503s the platforms gave up on
    figure = {"fault": fault.__name__, "down_s": round(back - struck, 1), "recovered_s": round(recovered - struck, 1),
              "accepted": sum(s.accepted for s in window), "not_accepted": dict(refused),
              "final_status": dict(Counter(str(s.status) for s in window if not s.accepted)),   # None: no answer
              "in_flight": sum(s.sent_at <= struck < s.answered_at for s in load.between(struck - 120, struck)), **extra}
    print(json.dumps({"fault_tier_fault": figure}), flush=True)
    return figure


def test_faults_under_load_lose_nothing_and_duplicate_nothing(running_system, local_kafka, facts):
    system, tag = running_system, f"fault-{uuid.uuid4().hex[:8]}"
    started, positions = time.time(), log_positions(system)
    load = Load(system.sim_url, unused_customers(system, PROFILE.customers), PROFILE.rate, tag)
    seen = Facts(facts, system, tag, int(started * 1000))
    figures, rounds = [], 0
    load.start()
    try:
        wait_until(lambda: len(load.answered_before(time.time())) >= 2 * len(load.lanes), 60, "the load to flow")
        catch_up(seen, load, time.time() - 5, "with the first messages")
        while rounds == 0 or time.time() - started < PROFILE.minutes * 60:
            rounds += 1
            figures += [inject(fault, system, local_kafka, seen, load) | {"round": rounds} for fault in FAULTS]
    finally:
        sent = load.stop()
    end = time.time()
    catch_up(seen, load, end + 1, "after the load")
    # What the platforms received until now; every reply created before now must have its outcome.
    logged = time.time()
    log = requests_log(system, positions)
    catch_up(seen, load, logged, "with the replies the platforms received")
    summary = {"tag": tag, "rate_asked": PROFILE.rate, "seconds": round(end - started), "lanes": len(load.lanes),
               "sent": len(sent), "accepted": sum(s.accepted for s in sent),
               "rate_accepted": round(sum(s.accepted for s in sent) / (end - started), 1), "faults": figures}
    summary |= exactly_once(seen, sent) | replies_once(seen, log, logged)
    summary["order"] = ordered(system, sent, seen)
    print(json.dumps({"fault_tier": summary}))
    for name, role in system.roles.items():
        assert role.proc.poll() is None, f"{name} is not running after the fault tier:\n{role.log()}"


def exactly_once(facts: Facts, sent: list) -> dict:
    """Every accepted message is one fact (with its conversation and customer); none became two."""
    inbound = facts.inbound()
    ours = {s.text for s in sent}
    assert set(inbound) <= ours, f"facts of messages nobody sent: {sorted(set(inbound) - ours)[:5]}"
    lost = [s.text for s in sent if s.accepted and s.text not in inbound]
    doubled = {t: rows for t, rows in inbound.items() if len(rows) > 1}
    homeless = [t for t, rows in inbound.items() if not all(r[1] and r[2] for r in rows)]
    assert not lost, f"{len(lost)} accepted messages have no fact: {lost[:5]}"
    assert not doubled, f"{len(doubled)} messages are two facts or more: {list(doubled.items())[:3]}"
    assert not homeless, f"{len(homeless)} message facts lack their conversation or customer: {homeless[:5]}"
    return {"lost": 0, "duplicated": 0, "facts": len(inbound),
            "not_accepted_with_fact": sum(1 for s in sent if not s.accepted and s.text in inbound)}


def replies_once(facts: Facts, log: dict[str, list[dict]], until: float) -> dict:
    """No reply reached a platform twice (where the platform would not absorb it), and every reply
    to this run's threads created before `until` (when `log` was read) has its outcome."""
    deadline = time.time() + 90   # a reply deliver held when it was killed is settled after its restart
    while True:
        replies = facts.outbound(until)
        rejected = facts.rejected()
        unsettled = [r[0] for r in replies if not set(r[3]) & {"sent", "failed"} and r[0] not in rejected]
        if not unsettled or time.time() > deadline:
            break
        time.sleep(1)
    assert not unsettled, f"{len(unsettled)} replies have no outcome: {unsettled[:5]}"
    # Outcome unknown: deliver restarted after its `sending` (unknown_outcome), or the platform's answer
    # never came within the timeout (no_answer: under load, the request may still have arrived).
    unknown = Counter((channel, text) for _, channel, text, _, codes, _ in replies if OUTCOME_UNKNOWN & set(codes))
    def sent_ids() -> dict[str, set]:   # platform message id -> outbound ids (every tenant's, since the start)
        ids = defaultdict(set)
        for outbound_id, platform_id in facts.sent_ids():
            ids[platform_id].add(outbound_id)
        return ids

    repeats, known = {}, sent_ids()
    for channel, entries in log.items():
        reached = [e for e in entries if _a_send(channel, e)]
        repeats[channel] = _repeats(channel, reached, known, unknown, sent_ids)
    return {"replies": len(replies), "unknown_outcome": sum(unknown.values()),
            "sends_reached": {c: sum(_a_send(c, e) for e in log[c]) for c in log}, "absorbed_repeats": repeats}


def _a_send(channel: str, entry: dict) -> bool:
    """A message send the platform took (not a media upload, template or quota read, nor a refusal)."""
    path = entry["path"]
    if entry["method"] == "EVENT":
        return True
    return entry["method"] == "POST" and (200 <= entry["status"] < 300 or entry["status"] == 409) \
        and not any(part in path for part in ("media", "upload", "quota", "message_templates"))


def _claimed(entry: dict, sent_ids: dict, again=None, wait_s: float = 30) -> set:
    """The replies whose sent fact names a platform message id of `entry`'s answer; with `again`,
    read anew each second until one does or `wait_s` passed."""
    deadline = time.time() + wait_s
    while not (mine := set().union(*(sent_ids.get(i, set()) for i in strings(entry["response"])))) \
            and again and time.time() < deadline:
        time.sleep(1)
        sent_ids.update(again())
    return mine


def _repeats(channel: str, reached: list[dict], sent_ids: dict, unknown: Counter, again) -> int:
    """The repeats a deduping platform absorbed; for the others, assert each send is its own reply.
    The log was read after `until`: a send it holds may be of a reply created since, whose sent
    fact was not awaited, so a send no fact claims is looked up `again` for a while first."""
    if channel in DEDUPING:
        key = {"open": lambda e: e["body"]["id"], "web": lambda e: e["body"].get("messageId"),
               "line": lambda e: e["headers"].get("x-line-retry-key") or id(e)}[channel]
        counts = Counter(key(e) for e in reached)
        if channel == "web":
            assert max(counts.values(), default=1) == 1, "a web visitor was shown a reply twice"
        return sum(n - 1 for n in counts.values())
    owners, left = Counter(), Counter(unknown)
    for entry in reached:
        # A reply reported failed with its outcome unknown (a crash, or no answer in time) may own it.
        match = next(((c, t) for (c, t), n in left.items() if c == channel and n and t in strings(entry["body"])), None)
        mine = _claimed(entry, sent_ids) or (set() if match else _claimed(entry, sent_ids, again))
        if mine:
            owners.update(mine)
            continue
        assert match, f"{channel} received a send that is no reply's: {entry}"
        left[match] -= 1
    twice = [o for o, n in owners.items() if n > 1]
    assert not twice, f"{channel} received replies twice: {twice[:5]}"
    return 0


def ordered(system, sent: list, facts: Facts) -> dict:
    """Each accepted message was added to its conversation once, and a lane's messages in the order
    its customer wrote them (the conversation-events' sequence); every conversation's facts reach
    its last event."""
    lane_of = {s.text: (s.lane, s.n) for s in sent}
    wanted = {s.text for s in sent if s.accepted}

    def complete(values: list[dict]) -> bool:
        return wanted <= {v["text"] for v in values if v["type"] == "message_added"}
    events = system.read("conversation-events", complete, timeout=120)
    added = [e for e in events if e["type"] == "message_added" and e.get("text") in lane_of]
    copies = defaultdict(set)
    for e in added:
        copies[e["message_id"]].add(e["event_id"])
    assert all(len(ids) == 1 for ids in copies.values()), "a message was added to a conversation twice"
    places, mine = defaultdict(set), {e["conversation_id"] for e in added}
    for e in events:
        if e["conversation_id"] in mine:
            places[(e["conversation_id"], e["sequence"])].add(e["event_id"])
    assert all(len(ids) == 1 for ids in places.values()), "two events took the same place in a conversation"
    by_conversation = defaultdict(dict)
    for e in added:
        by_conversation[e["conversation_id"]][e["sequence"]] = lane_of[e["text"]]
    for conversation, steps in by_conversation.items():
        for lane in {lane for lane, _ in steps.values()}:
            order = [n for _, (l, n) in sorted(steps.items()) if l == lane]
            assert order == sorted(order), f"{lane}'s messages out of order in {conversation}: {order}"
    last = {c: max(s) for c, s in by_conversation.items()}
    stored = facts.last_sequences(sorted(last))
    behind = [c for c, seq in last.items() if stored.get(c, 0) < seq]
    assert not behind, f"{len(behind)} conversations' facts stop before their last message: {behind[:5]}"
    return {"conversations": len(by_conversation), "messages_added": len(copies)}
