"""WhatsApp Business Account webhooks other than `messages`: template status and quality, the
number's quality and messaging limit, account updates — as account-event records
(developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/<field>).

Each arrives as `entry[].changes[]` with `entry.id` the WABA id, `entry.time` in seconds and the
change's `field` naming its shape. A field this module does not know is counted as ignored by the
connector, never an error: Meta adds fields, and a 4xx would make it retry for 7 days.
"""
from __future__ import annotations

import logging

from .account_events import account_event, flat, template

log = logging.getLogger(__name__)

# message_template_status_update events that are not a sendable status (the template stays as it
# was): FLAGGED is a quality warning, LOCKED/UNLOCKED concern editing, LIMIT_EXCEEDED the WABA's
# template count. REINSTATED means "can be sent again".
NOT_A_STATUS = {"FLAGGED", "LOCKED", "UNLOCKED", "LIMIT_EXCEEDED"}
STATUS_OF_EVENT = {"REINSTATED": "APPROVED"}
# phone_number_quality_update: a number is FLAGGED when its quality rating reaches low (red).
QUALITY_OF_EVENT = {"FLAGGED": "RED"}
NOT_A_TIER = {"TIER_NOT_SET", ""}


def _template_status(account, value: dict, common: dict) -> dict:
    """message_template_status_update: {event, message_template_id, _name, _language, reason,
    message_template_category, other_info {title, description}, disable_info, rejection_info}."""
    event = str(value.get("event") or "").upper()
    status = STATUS_OF_EVENT.get(event, event)
    details = flat({k: v for k, v in value.items() if k.startswith(("reason", "other_info", "disable_info",
                                                                     "rejection_info"))})
    who = {"template_name": value.get("message_template_name"), "template_language": value.get("message_template_language"),
           "template_id": value.get("message_template_id"), "event": event}
    if event in NOT_A_STATUS or not value.get("message_template_name"):
        return account_event(account, kind="other", **common, attributes=who | details)
    changed = template(value["message_template_name"], value.get("message_template_language") or "",
                       value.get("message_template_category"), status, id_=value.get("message_template_id"))
    return account_event(account, kind="template_status", templates=[changed], **common,
                         attributes={"event": event} | details)


def _quality(account, value: dict, common: dict) -> dict:
    """phone_number_quality_update: {display_phone_number, event (UPGRADE, DOWNGRADE, FLAGGED,
    UNFLAGGED, ONBOARDING, THROUGHPUT_UPGRADE), old_limit, current_limit, and since the portfolio
    limits of Oct 2025 max_daily_conversations_per_business (current_limit goes away in 2026)}."""
    event = str(value.get("event") or "").upper()
    tier = str(value.get("max_daily_conversations_per_business") or value.get("current_limit") or "")
    # THROUGHPUT_UPGRADE's TIER_UNLIMITED is the number's throughput (1,000 msg/s), not a messaging limit.
    if event == "THROUGHPUT_UPGRADE" or tier in NOT_A_TIER:
        tier = None
    quality = value.get("quality_rating") or QUALITY_OF_EVENT.get(event)
    return account_event(account, kind="quality_update", messaging_limit_tier=tier, quality_rating=quality,
                         **common, attributes=flat(value))


def _other(account, value: dict, common: dict) -> dict:
    """A known account-level field the policy does not act on (account_update, template quality…):
    kept as `other` with the payload's leaves as attributes."""
    return account_event(account, kind="other", **common, attributes=flat(value))


FIELDS = {
    "message_template_status_update": _template_status,
    "phone_number_quality_update": _quality,
    # A template's quality score {previous_quality_score, new_quality_score, message_template_*}:
    # not the number's quality rating, so `other`.
    "message_template_quality_update": _other,
    "template_category_update": _other,     # {previous_category, new_category, message_template_*}
    "account_update": _other,               # {event ACCOUNT_VIOLATION|DISABLED_UPDATE|…, ban_info, …}
    "account_review_update": _other,        # {decision}
    "business_capability_update": _other,   # {max_daily_conversation_per_phone, max_phone_numbers_per_business}
}


def account_change(account, entry: dict, change: dict, received_at: int) -> dict | None:
    """The account-event of one non-message change, or None when it is not one to publish: an
    unknown field, or a WABA other than the account's (logged)."""
    field, value = change.get("field"), change.get("value")
    parse = FIELDS.get(field)
    if parse is None or not isinstance(value, dict):
        return None
    waba = str(entry.get("id") or account.waba_id or "")
    if account.waba_id and waba != account.waba_id:
        log.warning("whatsapp/%s: %s for WABA %s, not the account's %s: ignored", account.account_id, field,
                    waba, account.waba_id)
        return None
    occurred = int(entry["time"]) * 1000 if str(entry.get("time", "")).isdigit() else received_at
    common = {"occurred_at": occurred, "waba_id": waba or None, "raw_event": field,
              "says": [field, waba, entry.get("time"), value]}
    return parse(account, value, common)
