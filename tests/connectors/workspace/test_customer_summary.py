"""Who the customer is, folded from identity facts (pure): an identity's 'matched by' is its latest
link or merge, even when the per-customer `created` event carries the same instant."""
from connectors.workspace.customers import summary

AT = 1_767_261_600_000


def fact(kind: str, event_id: str, reason: str, **fields) -> dict:
    return {"type": kind, "event_id": event_id, "customer_id": "cust-w", "merged_customer_id": None,
            "thread_key": "acme:whatsapp:wa:4915", "channel": "whatsapp", "external_id": "4915",
            "display_name": None, "detail_type": None, "detail_value": None, "candidates": [],
            "reason": reason, "at": AT, **fields}


def test_a_merge_at_the_same_instant_as_created_says_how_the_identity_belongs():
    merged = fact("merged", "ie-0", "agent-entered email matches the customer known from messenger",
                  merged_customer_id="cust-m", detail_type="email", detail_value="ana@example.com")
    created = fact("created", "ie-f", "first contact on whatsapp")   # sorts after the merge
    [identity] = summary(["cust-m", "cust-w"], [merged, created], [])["identities"]
    assert identity["matched_by"] == "agent-entered email matches the customer known from messenger"
    [only] = summary(["cust-w"], [created], [])["identities"]
    assert only["matched_by"] == "first contact on whatsapp"
