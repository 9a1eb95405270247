"""The identity decision: (state of one detail, a claim of it) -> (new state, identity events).

Pure. The state is the `identity-state` record of one normalized detail (None: never claimed);
claims and events are `identity-claim` / `identity-event` dicts. Rules (README.md):

- unknown detail: link it to the claimant;
- a claimant already recorded on the detail: nothing (claims and their replays are idempotent);
- another customer's detail: merge when the match is strong, flag it when it is ambiguous.

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


def decide(state: dict | None, claim: dict) -> tuple[dict | None, list[dict]]:
    """Apply one claim to its detail's state: the new state and the audited events it causes."""
    _check(claim)
    if state is None:
        return _linked(claim), [created(claim), event(claim, "linked", claim["customer_id"], _link_reason(claim))]
    if claim["claim_id"] == state["last_claim_id"] or relation(state, claim["customer_id"]):
        return state, []
    problem = ambiguity(state, claim)
    if problem:
        return _flagged(state, claim, problem)
    return _merged(state, claim)


def relation(state: dict, customer_id: str) -> str | None:
    """What was decided for `customer_id` on this detail: owner, merged, flagged, or None."""
    return next((m["relation"] for m in state["members"] if m["customer_id"] == customer_id), None)


def ambiguity(state: dict, claim: dict) -> str | None:
    """Why the claim must not merge into the detail's owner, or None when the match is strong."""
    flagged = [m for m in state["members"] if m["relation"] == "flagged"]
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
            "occurred_at": claim["occurred_at"]}


def _check(claim: dict) -> None:
    for field in ("claim_id", "tenant_id", "customer_id", "detail_value"):
        if not claim.get(field):
            raise ValueError(f"identity claim without {field}")
    if claim["detail_type"] not in ("email", "phone"):
        raise ValueError(f"identity claim of unsupported detail type {claim['detail_type']!r}")


def _words(claim: dict) -> str:
    return f"{WORDS.get(claim['source'], 'claimed')} {claim['detail_type']}"


def _link_reason(claim: dict) -> str:
    return f"{_words(claim)} linked to the customer from {claim['channel']}"


def _linked(claim: dict) -> dict:
    return {"tenant_id": claim["tenant_id"], "owner_customer_id": claim["customer_id"],
            "owner_channel": claim["channel"], "owner_source": claim["source"],
            "owner_name": normalize_name(claim.get("display_name")),
            "members": [{"customer_id": claim["customer_id"], "relation": "owner"}],
            **_applied(claim)}


def _applied(claim: dict) -> dict:
    return {"last_claim_id": claim["claim_id"], "updated_at": millis(claim["occurred_at"])}


def _flagged(state: dict, claim: dict, problem: str) -> tuple[dict, list[dict]]:
    candidates = sorted(m["customer_id"] for m in state["members"])
    reason = f"{_words(claim)} matches the customer known from {state['owner_channel']} but {problem}"
    events = [created(claim), event(claim, "flagged", claim["customer_id"], reason, candidates=candidates)]
    if len(state["members"]) >= MAX_MEMBERS:
        return state, events  # not recorded: the entry stays bounded; a replay flags again, same ids
    members = state["members"] + [{"customer_id": claim["customer_id"], "relation": "flagged"}]
    return state | {"members": members, **_applied(claim)}, events


def _merged(state: dict, claim: dict) -> tuple[dict, list[dict]]:
    owner, claimant = state["owner_customer_id"], claim["customer_id"]
    survivor, absorbed = min(owner, claimant), max(owner, claimant)
    reason = f"{_words(claim)} matches the customer known from {state['owner_channel']}"
    events = [created(claim), event(claim, "merged", survivor, reason, merged=absorbed)]
    members = [m | {"relation": "merged"} if m["customer_id"] == absorbed else m for m in state["members"]]
    members.append({"customer_id": claimant, "relation": "owner" if claimant == survivor else "merged"})
    names = [n for n in (state["owner_name"], normalize_name(claim.get("display_name"))) if n]
    better = max(state["owner_source"], claim["source"], key=lambda s: STRENGTH.get(s, 0))
    new = state | {"owner_customer_id": survivor, "members": members, "owner_source": better,
                   "owner_name": max(names, key=lambda n: len(n.split()), default=None), **_applied(claim)}
    if survivor == claimant:
        new["owner_channel"] = claim["channel"]
    return new, events
