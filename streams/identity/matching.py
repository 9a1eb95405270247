"""The identity decision: (state of one detail, a claim of it) -> (new state, identity events).

Pure. The state is the `identity-state` record of one normalized detail (None: never claimed);
claims and events are `identity-claim` / `identity-event` dicts. Rules (README.md):

- unknown detail: link it to the claimant;
- a claimant already recorded on the detail: nothing (claims and their replays are idempotent);
- another customer's detail: merge when the match is strong, flag it when it is ambiguous, and only
  suggest the merge when either side's detail was found in what a customer typed (origin `text`)
  and the tenant does not merge typed details (a person confirms or rejects: `confirm`/`reject`);
- `split`: a person undoes a merge; the customers are separate again and never auto-merged on it.

`customer_updates` says what a decision means for each thread concerned (topic customer-updates).

The survivor of a merge is the smaller customer id, not the detail's owner: claims of different
details are decided on different partitions, and "the owner survives" could merge A into B on one
and B into A on another. An order over ids makes merges point one way, so chains end.
"""
from __future__ import annotations

from streams.conversations.ids import make_id
from streams.records import millis

from switchboard.details import names_compatible, normalize_name

# How much a source proves that the claimant holds the detail; 0: unknown, never merges.
STRENGTH = {"platform_verified": 3, "agent_entered": 2, "customer_volunteered": 1}
VERIFIED = STRENGTH["platform_verified"]
WORDS = {"platform_verified": "verified", "agent_entered": "agent-entered",
         "customer_volunteered": "volunteered"}
MAX_MEMBERS = 32      # a detail shared by more customers than this is not identifying anyone
MAX_THREADS = 8       # threads remembered per member: a customer's channels, not its history
TEXT = "text"         # the origin of a detail found in what the customer wrote
GROUPED = ("owner", "merged")       # relations whose customers are one group on this detail
APART = ("rejected", "split")       # relations a person decided: never merged again on this detail


def decide(state: dict | None, claim: dict) -> tuple[dict | None, list[dict]]:
    """Apply one claim to its detail's state: the new state and the audited events it causes."""
    _check(claim)
    action = claim.get("action") or "claim"
    if action != "claim":
        return _decision(state, claim, action)
    if state is None:
        return _linked(claim), [created(claim), event(claim, "linked", claim["customer_id"], _link_reason(claim))]
    if claim["claim_id"] == state["last_claim_id"]:
        return state, []
    known = relation(state, claim["customer_id"])
    if known:
        return _with_thread(state, claim), []
    problem = ambiguity(state, claim)
    if problem:
        return _flagged(state, claim, problem)
    if TEXT in (claim.get("origin"), state.get("owner_origin")) and not claim.get("auto_merge"):
        return _suggested(state, claim)
    return _merged(state, claim)


def relation(state: dict, customer_id: str) -> str | None:
    """What was decided for `customer_id` on this detail: owner, merged, flagged, or None."""
    return next((m["relation"] for m in state["members"] if m["customer_id"] == customer_id), None)


def ambiguity(state: dict, claim: dict) -> str | None:
    """Why the claim must not merge into the detail's owner, or None when the match is strong."""
    flagged = [m for m in state["members"] if m["relation"] == "flagged"]
    if any(m["relation"] in APART for m in state["members"] if m["customer_id"] == claim["customer_id"]):
        return "a person decided they are different customers"
    if flagged or len(state["members"]) >= MAX_MEMBERS:
        return f"{claim['detail_type']} already matches {len(state['members'])} customers"
    ours, theirs = STRENGTH.get(claim["source"], 0), STRENGTH.get(state["owner_source"], 0)
    if not ours or not theirs:
        return f"the source of the {'claim' if not ours else 'known link'} is unknown"
    both_verified = (ours, theirs) == (VERIFIED, VERIFIED)  # only the platform vouching for both outweighs names
    if not both_verified and not names_compatible(state["owner_name"], claim.get("display_name")):
        return "the names differ"
    return None


def created(claim: dict) -> dict:
    """The claimant's `created` event; its id depends on the customer only, so every detail's copy is one."""
    values = event(claim, "created", claim["customer_id"], f"first contact on {claim['channel']}")
    return values | {"event_id": make_id("ie", claim["tenant_id"], "created", claim["customer_id"]),
                     "detail_type": None, "detail_value": None}


def event(claim: dict, kind: str, customer_id: str, reason: str, merged: str | None = None,
          candidates: list[str] | None = None) -> dict:
    """An identity-event about `claim`, its id deterministic from the claim and the decision."""
    return {"event_id": make_id("ie", claim["claim_id"], kind, customer_id, merged or ""),
            "tenant_id": claim["tenant_id"], "type": kind, "customer_id": customer_id,
            "merged_customer_id": merged, "thread_key": claim["thread_key"], "channel": claim["channel"],
            "external_id": claim["external_id"], "display_name": claim.get("display_name"),   # v2
            "detail_type": claim["detail_type"],
            "detail_value": claim["detail_value"], "candidates": candidates or [], "reason": reason,
            "origin": claim.get("origin"), "message_id": claim.get("message_id"), "actor": claim.get("actor"),  # v3
            "occurred_at": claim["occurred_at"]}


def _check(claim: dict) -> None:
    for field in ("claim_id", "tenant_id", "customer_id", "detail_value"):
        if not claim.get(field):
            raise ValueError(f"identity claim without {field}")
    if claim["detail_type"] not in ("email", "phone", "platform_user"):
        raise ValueError(f"identity claim of unsupported detail type {claim['detail_type']!r}")


def _words(claim: dict) -> str:
    return f"{WORDS.get(claim['source'], 'claimed')} {claim['detail_type']}"


def _link_reason(claim: dict) -> str:
    return f"{_words(claim)} linked to the customer from {claim['channel']}"


def _linked(claim: dict) -> dict:
    return {"tenant_id": claim["tenant_id"], "owner_customer_id": claim["customer_id"],
            "owner_channel": claim["channel"], "owner_source": claim["source"],
            "owner_name": normalize_name(claim.get("display_name")), "owner_origin": claim.get("origin"),
            "members": [_member(claim, "owner")], **_applied(claim)}


def _member(claim: dict, relation: str) -> dict:
    return {"customer_id": claim["customer_id"], "relation": relation, "thread_keys": [claim["thread_key"]]}


def _with_thread(state: dict, claim: dict) -> dict:
    """The claimant's thread remembered on its member (a customer's second channel account)."""
    members = [m | {"thread_keys": (m.get("thread_keys", []) + [claim["thread_key"]])[-MAX_THREADS:]}
               if m["customer_id"] == claim["customer_id"] and claim["thread_key"] not in m.get("thread_keys", [])
               else m for m in state["members"]]
    return state | {"members": members, **_applied(claim)} if members != state["members"] else state


def _applied(claim: dict) -> dict:
    return {"last_claim_id": claim["claim_id"], "updated_at": millis(claim["occurred_at"])}


def _flagged(state: dict, claim: dict, problem: str) -> tuple[dict, list[dict]]:
    candidates = sorted(m["customer_id"] for m in state["members"])
    reason = f"{_words(claim)} matches the customer known from {state['owner_channel']} but {problem}"
    events = [created(claim), event(claim, "flagged", claim["customer_id"], reason, candidates=candidates)]
    if len(state["members"]) >= MAX_MEMBERS:
        return state, events  # not recorded: the entry stays bounded; a replay flags again, same ids
    members = state["members"] + [_member(claim, "flagged")]
    return state | {"members": members, **_applied(claim)}, events


def _suggested(state: dict, claim: dict) -> tuple[dict, list[dict]]:
    """A strong match on a typed detail: recorded as a suggestion a person confirms or rejects."""
    where = "typed" if claim.get("origin") == TEXT else _words(claim)
    reason = (f"{where} {claim['detail_type']} matches the customer known from {state['owner_channel']}: "
              "an agent confirms or rejects the merge")
    candidates = [state["owner_customer_id"]]
    events = [created(claim), event(claim, "suggested", claim["customer_id"], reason, candidates=candidates)]
    if len(state["members"]) >= MAX_MEMBERS:
        return state, events
    return state | {"members": state["members"] + [_member(claim, "suggested")], **_applied(claim)}, events


def _decision(state: dict | None, claim: dict, action: str) -> tuple[dict | None, list[dict]]:
    """A person's decision about the claimant and `other_customer_id` on this detail (audited)."""
    other, actor = claim.get("other_customer_id"), claim.get("actor") or "someone"
    known = relation(state, claim["customer_id"]) if state else None
    if state is None or not other or relation(state, other) is None or claim["claim_id"] == state["last_claim_id"]:
        return state, []   # nothing known to decide about (or a replay)
    if action == "confirm" and known in ("suggested", "flagged", "rejected", "split"):
        before = next(m for m in state["members"] if m["customer_id"] == claim["customer_id"])
        state = state | {"members": [m for m in state["members"] if m is not before]}
        new, events = _merged(state, claim, reason=f"{actor} confirmed that the {claim['detail_type']} "
                                                     f"{claim['detail_value']} is the same customer's")
        new = _with_thread(new, claim)
        for thread in before.get("thread_keys", []):
            new = _with_thread(new, claim | {"thread_key": thread})
        return new, events[1:]
    if action == "reject" and known in ("suggested", "flagged"):
        return _set_relation(state, claim, "rejected"), [event(
            claim, "rejected", claim["customer_id"], f"{actor} rejected the suggested merge with the customer "
            f"known from {state['owner_channel']}", candidates=[other])]
    if action == "split" and known in GROUPED and relation(state, other) in GROUPED:
        apart = claim["customer_id"]
        new = _set_relation(state, claim, "split")
        if state["owner_customer_id"] == apart:   # the detail stays with the other customer
            new = new | {"owner_customer_id": other,
                         "members": [m | {"relation": "owner"} if m["customer_id"] == other else m
                                     for m in new["members"]]}
        return new, [event(claim, "split", apart, f"{actor} split the customer from the one its "
                           f"{claim['detail_type']} had merged it with", merged=other)]
    return state, []


def _set_relation(state: dict, claim: dict, relation_: str) -> dict:
    members = [m | {"relation": relation_} if m["customer_id"] == claim["customer_id"] else m for m in state["members"]]
    return state | {"members": members, **_applied(claim)}


def _merged(state: dict, claim: dict, reason: str | None = None) -> tuple[dict, list[dict]]:
    owner, claimant = state["owner_customer_id"], claim["customer_id"]
    survivor, absorbed = min(owner, claimant), max(owner, claimant)
    reason = reason or f"{_words(claim)} matches the customer known from {state['owner_channel']}"
    events = [created(claim), event(claim, "merged", survivor, reason, merged=absorbed)]
    members = [m | {"relation": "merged"} if m["customer_id"] == absorbed else m for m in state["members"]]
    members.append(_member(claim, "owner" if claimant == survivor else "merged"))
    names = [n for n in (state["owner_name"], normalize_name(claim.get("display_name"))) if n]
    better = max(state["owner_source"], claim["source"], key=lambda s: STRENGTH.get(s, 0))
    new = state | {"owner_customer_id": survivor, "members": members, "owner_source": better,
                   "owner_name": max(names, key=lambda n: len(n.split()), default=None), **_applied(claim)}
    if survivor == claimant:
        new["owner_channel"] = claim["channel"]
        new["owner_origin"] = claim.get("origin")
    return new, events


def customer_updates(state: dict | None, claim: dict, events: list[dict]) -> list[dict]:
    """What the decision means for each thread concerned (customer-updates): a merge or split reaches
    every thread of the detail's members; any other decision settles the claimant's thread (a new
    conversation waiting for identity may be routed)."""
    decisive = [e for e in events if e["type"] in ("merged", "split")]
    if state is None or not decisive:
        if (claim.get("action") or "claim") != "claim":
            return []
        customer = _customer_of(state, claim["customer_id"]) if state else claim["customer_id"]
        group = _group(state, customer) if state else [customer]
        return [_update(claim, claim["thread_key"], "settled", customer, group, events, "identity decided: "
                        + (events[-1]["reason"] if events else "already known"))]
    decision = decisive[0]
    updates = []
    for member in state["members"]:
        customer = _customer_of(state, member["customer_id"])
        kind = "split" if decision["type"] == "split" and member["customer_id"] == decision["customer_id"] else "merged"
        threads = member.get("thread_keys", []) or []
        if member["customer_id"] == claim["customer_id"] and claim["thread_key"] not in threads:
            threads = threads + [claim["thread_key"]]
        updates += [_update(claim, t, kind, customer, _group(state, customer), [decision], decision["reason"])
                    for t in threads if member["relation"] in GROUPED + APART]
    return updates


def _customer_of(state: dict, customer_id: str) -> str:
    """The customer a member is now: the detail's owner if grouped with it, else itself."""
    return state["owner_customer_id"] if relation(state, customer_id) in GROUPED else customer_id


def _group(state: dict, customer: str) -> list[str]:
    if customer != state["owner_customer_id"]:
        return [customer]
    return sorted(m["customer_id"] for m in state["members"] if m["relation"] in GROUPED)


def _update(claim: dict, thread_key: str, kind: str, customer: str, group: list[str], events: list[dict],
            reason: str) -> dict:
    cause = events[-1]["event_id"] if events else claim["claim_id"]
    answered = claim["claim_id"] if thread_key == claim["thread_key"] else None   # the claimant's thread's answer
    return {"update_id": make_id("cu", cause, thread_key, kind), "tenant_id": claim["tenant_id"],
            "thread_key": thread_key, "kind": kind, "customer_id": customer, "group": group,
            "event_id": cause, "claim_id": answered, "reason": reason, "occurred_at": claim["occurred_at"]}
