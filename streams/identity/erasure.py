"""An erased customer's detail, forgotten by the identity matcher (`switchboard admin erase-customer`).

The erasure sends an identity-claim of action `erase` keyed by the detail: it reaches the partition
that holds the detail's state, and deleting the entry there writes the changelog's tombstone
(identity-state), so the running worker and every later restore forget it. No event is produced:
an identity-event would carry the detail again.
"""
from __future__ import annotations


def forget(details, key: bytes, metrics: dict) -> list:
    """Delete the detail's state (if any); nothing to produce."""
    if key in details:
        del details[key]
        metrics["applied"] += 1
    else:
        metrics["unchanged"] += 1
    return []
