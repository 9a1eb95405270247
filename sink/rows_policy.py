"""The channel policy's fact rows (issue 12): consents, account events, approvals and window expiries.

Pure, like sink/rows.py: `record dict -> [(table, row dict)]`, every column of the table (DDL
0021-0025). Approvals and window expiries are rows of subjects the sink already maps
(outbound-message on `outbound-approved`, conversation-event), so rows.py calls `approval` and
`window_expiry` from its own mappers; consents and account events are subjects of their own.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

Row = tuple[str, dict]

CONSENT_COLUMNS = ("tenant_id", "consent_id", "thread_key", "channel", "channel_account_id", "recipient_id",
                   "action", "source", "occurred_at", "text", "recorded_by")
ACCOUNT_EVENT_COLUMNS = ("tenant_id", "event_id", "portfolio_key", "channel", "channel_account_id", "kind",
                         "occurred_at", "waba_id", "quality_rating", "messaging_limit_tier", "quota_limit",
                         "quota_used", "raw_event")
WINDOW_COLUMNS = ("tenant_id", "event_id", "conversation_id", "thread_key", "customer_id", "channel",
                  "channel_account_id", "window_rule", "occurred_at")


def consent(r: dict) -> list[Row]:
    """One opt-in or opt-out (consent v1)."""
    return [("consent_facts", {c: r.get(c) for c in CONSENT_COLUMNS})]


def account_event(r: dict) -> list[Row]:
    """One account event (account-event v1); its templates as parallel arrays and a count."""
    templates = r.get("templates") or []
    row = {c: r.get(c) for c in ACCOUNT_EVENT_COLUMNS} | {
        "template_count": len(templates),
        "template_names": [t["name"] for t in templates],
        "template_languages": [t["language"] for t in templates],
        "template_categories": [t["category"] for t in templates],
        "template_statuses": [t["status"] for t in templates],
        "attributes": dict(r.get("attributes") or {})}
    return [("account_event_facts", row)]


def approval(r: dict, content_types: list[str]) -> Row:
    """The approval fact of an outbound on `outbound-approved` (outbound-message v2/v3)."""
    attributes, template = r.get("attributes") or {}, r.get("template") or {}
    return ("outbound_approval_facts", {
        "tenant_id": r["tenant_id"], "outbound_id": r["outbound_id"], "thread_key": r["thread_key"],
        "conversation_id": r["conversation_id"], "channel": r["channel"],
        "channel_account_id": r["channel_account_id"], "portfolio_key": r.get("portfolio_key"),
        "agent_id": r["agent_id"], "kind": r["kind"], "template_name": template.get("name"),
        "template_language": template.get("language"), "template_category": template.get("category"),
        "business_initiated": int(bool(r.get("business_initiated"))),   # v3; absent before: the window was open
        "fallbacks": fallbacks(attributes.get("fallbacks")), "content_types": content_types,
        "price_category": attributes.get("price.category"), "price_amount": _amount(attributes.get("price.amount")),
        "price_currency": attributes.get("price.currency"), "approved_at": r["created_at"]})


def window_expiry(r: dict) -> list[Row]:
    """A `window_closed` conversation event (v5) as a window expiry fact; nothing for other types."""
    if r["type"] != "window_closed":
        return []
    return [("window_expiry_facts", {c: r.get(c) for c in WINDOW_COLUMNS})]


def fallbacks(attribute: str | None) -> list[str]:
    """`sticker:emoji,quick_reply:numbered_text` → its items (the policy's `fallbacks` attribute)."""
    return [f.strip() for f in (attribute or "").split(",") if f.strip()]


def _amount(text: str | None) -> Decimal | None:
    """The estimate's decimal string; a malformed one is bad input (the record goes to the dead letters)."""
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"attribute price.amount {text!r} is not a decimal") from None


POLICY_MAPPERS: dict[str, Callable[[dict], list[Row]]] = {"consent": consent, "account-event": account_event}
