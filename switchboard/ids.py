"""Deterministic ids shared by the edge and the stream processors (uuid5 under one namespace)."""
from __future__ import annotations

import uuid

# Fixed namespace of the stream processors' ids (uuid5): never change it, ids are stored downstream.
NAMESPACE = uuid.UUID("0b6f5e3a-2c1d-5e8f-9a7b-3c4d5e6f7a8b")


def make_id(prefix: str, *parts: object) -> str:
    """`<prefix>-<uuid5>` over the parts."""
    return f"{prefix}-{uuid.uuid5(NAMESPACE, '|'.join(str(p) for p in parts))}"


def customer_id(tenant_id: str, channel: str, external_id: str) -> str:
    """The customer of a channel identity before matching: one per (tenant, channel, external id).

    Not per channel account: a WhatsApp number or X user writing to two of our accounts is one
    person. The identity matcher links and merges these ids across channels.
    """
    return make_id("cust", tenant_id, channel, external_id)
