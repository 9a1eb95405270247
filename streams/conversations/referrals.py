"""Where a conversation came from: the referral of its first message (or of a bare referral just
before it), resolved to an entry point and its campaign (docs/entry-points.md).

The connectors put a platform's referral on the inbound message's attributes (`referral_ref`: a
Messenger link's ref or the widget's entryPoint; `referral_source`: ad, post, shortlink, widget…;
`referral_source_id`: the ad id). `referral_of` resolves it with a lookup function (the plumbing
passes one over the directory: `lookup`), so everything else here is pure. A conversation keeps the
first referral it gets; a bare one (Messenger messaging_referrals) waits on the thread for the next
message within the window.
"""
from __future__ import annotations

from collections.abc import Callable

from streams.records import millis

KIND = "referral"   # the inbound kind of a referral without a message: it starts and routes nothing
FIELDS = ("entry_point_id", "campaign_id", "referral_source", "referral_source_id")   # conversation-event v4

EntryPointLookup = Callable[[str, str, str | None, str | None], dict | None]   # (tenant, channel, ref, ad id)


def none(tenant: str, channel: str, ref: str | None, source_id: str | None) -> dict | None:  # noqa: ARG001
    """No entry points known (no directory): referrals keep their source, without a campaign."""
    return None


def lookup(directory) -> EntryPointLookup:
    """The entry point of a referral in the directory: by its ref (the entry point id), else the one
    listing its ad id; only an entry point of the message's channel."""
    def entry_point(tenant: str, channel: str, ref: str | None, source_id: str | None) -> dict | None:
        found = (directory.entry_point(tenant, ref) if ref else None) or \
                (directory.entry_point_of_ad(tenant, source_id) if source_id else None)
        return found if found is not None and found.get("channel") == channel else None
    return entry_point


def referral_of(msg: dict, entry_point: EntryPointLookup) -> dict | None:
    """The message's referral as the thread state keeps it (`PendingReferral`), or None."""
    attributes = msg.get("attributes") or {}
    ref, source_id = attributes.get("referral_ref"), attributes.get("referral_source_id")
    if not (ref or source_id):
        return None
    found = entry_point(msg["tenant_id"], msg["channel"], ref, source_id) or {}
    return {"at": millis(msg["occurred_at"]), "entry_point_id": found.get("id"), "campaign_id": found.get("campaign"),
            "source": attributes.get("referral_source"), "source_id": source_id}


def take(state: dict, own: dict | None, at: int, window_ms: int) -> dict | None:
    """The referral of a customer message at `at`: its own, else the thread's pending one when it
    came at most a window before. The pending one is used up either way (a message older than it
    leaves it for the next)."""
    pending = state.get("referral")
    if pending is not None and at < pending["at"] and own is None:
        return None
    state["referral"] = None
    if own is not None:
        return own
    return pending if pending is not None and at - pending["at"] <= window_ms else None


def attribute(conv: dict, referral: dict | None) -> dict:
    """Give `conv` the referral unless it has one already: the event fields saying so, else {}."""
    if referral is None or any(conv.get(name) for name in FIELDS):
        return {}
    conv.update(entry_point_id=referral["entry_point_id"], campaign_id=referral["campaign_id"],
                referral_source=referral["source"], referral_source_id=referral["source_id"],
                referral_at=referral["at"])   # state v4: the free entry point window runs from it
    return fields_of(conv)


def fields_of(conv: dict) -> dict:
    """The conversation's referral fields (conversation-event v4), None where unknown."""
    return {name: conv.get(name) for name in FIELDS}
