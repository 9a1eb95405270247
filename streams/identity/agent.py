"""faust plumbing of the identity matcher: one agent over identity-claims, one table per detail.

identity-claims is keyed by the normalized detail, and so is `customer_by_detail` (changelog
identity-state, same partition count): every claim of a detail meets its state on one partition.
The agent is a `streams.processor.Processor`: the decisions are produced and acked before the
detail's state is written, so a crash in between replays the claim on the old state and produces
the same events with the same ids (the sink dedupes them by event id). Every decision is also fanned out
to the threads it concerns (customer-updates, keyed by thread key: the conversation processor's input).
"""
from __future__ import annotations

from schemas import topic
from streams.app import raw_table
from streams.processor import Processor, Wiring
from streams.records import Output

from . import erasure
from .matching import customer_updates, decide
from switchboard.details import claim_key, normalize_detail

STAGE = "streams.identity"
EVENTS = topic("identity-events").name
UPDATES = topic("customer-updates").name
# Identity entries are tiny and few next to messages: a small RocksDB per partition is plenty.
ROCKSDB_OPTIONS = {"write_buffer_size": 4 << 20, "max_write_buffer_number": 2, "block_cache_size": 8 << 20,
                   "target_file_size_base": 8 << 20, "max_open_files": 128}

customer_by_detail = raw_table("customer_by_detail", changelog="identity-state", options=ROCKSDB_OPTIONS,
                               help="Detail state by claim key (subject identity-state).")
processor = Processor("match_identity_claims", ["identity-claims"], stage=STAGE, tables=[customer_by_detail])
details = processor.staged(customer_by_detail)
metrics = processor.metrics
metrics.update(applied=0, unchanged=0)


def setup(wiring: Wiring) -> None:
    """Bind the handler with the role's codec (the worker calls this before the app starts)."""
    processor.bind(handle, wiring)


def handle(msg, claim: dict) -> list[Output]:
    """Match one claimed detail against the customers known for it: link, merge or flag."""
    if normalize_detail(claim["detail_type"], claim["detail_value"]) != claim["detail_value"]:
        raise ValueError(f"{claim['detail_type']} {claim['detail_value']!r} is not normalized")
    key = claim_key(claim["tenant_id"], claim["detail_type"], claim["detail_value"]).encode()
    if msg.key != key:  # a wrong key would put the detail's state on another partition
        raise ValueError(f"record key {msg.key!r} is not the claim's detail key {key!r}")
    if claim["action"] == "erase":   # switchboard/erase.py: the detail's customer was erased
        return erasure.forget(details, key, metrics)
    data = details.get(key)
    state = processor.codec.decode(data, "identity-state") if data else None
    new_state, events = decide(state, claim)
    if new_state is None or new_state is state:
        metrics["unchanged"] += 1
    else:
        details[key] = processor.codec.encode("identity-state", new_state)
        metrics["applied"] += 1
    updates = customer_updates(new_state, claim, events)
    return [Output(EVENTS, e["customer_id"], "identity-event", e) for e in events] + \
        [Output(UPDATES, u["thread_key"], "customer-update", u) for u in updates]
