"""Identity claims for the matcher's tests, from tests/fixtures/identity/claims.json."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from streams.conversations.ids import customer_id

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "identity"


@cache
def _claims() -> dict:
    return json.loads((FIXTURES / "claims.json").read_text())


def claim(name: str, tenant: str = "acme", **overrides) -> dict:
    """The fixture claim `name` for `tenant`: thread key and customer id derived as the processor does."""
    base = dict(_claims()[name])
    base |= {"tenant_id": tenant, "claim_id": f"{base['claim_id']}-{tenant}",
             "thread_key": f"{tenant}:{base['channel']}:{base['channel_account_id']}:{base['external_id']}",
             "customer_id": customer_id(tenant, base["channel"], base["external_id"])}
    return base | overrides


def key(record: dict) -> str:
    """The identity-claims key of a claim."""
    return f"{record['tenant_id']}:{record['detail_type']}:{record['detail_value']}"
