"""Details a customer volunteers: the channel's own fields, and emails and phone numbers found in
what they write (identity-claim v2 `origin`), as the claims the thread sends to the identity matcher.

Phone numbers in text are found by Google's libphonenumber rules (`phonenumbers.PhoneNumberMatcher`,
strict validity), read with the channel account's `country` as the default region ("my number is
0612 345 678" on a French account is +33 612 345 678); without a country only numbers written in
international form (+…) are found. A detail found in text is only a *suggestion* to merge unless the
tenant sets `merge_typed_details` (streams/identity/matching.py).
"""
from __future__ import annotations

import re

import phonenumbers

from switchboard.details import normalize_detail

# An address as people type one: local part, @, a dotted domain with a 2+ letter top level.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
MAX_FOUND = 3          # details taken per message: a pasted list is nobody's own details
# The WhatsApp system message saying the customer moved to another number (connectors/whatsapp.py).
NUMBER_CHANGED = "user_changed_number"


def platform_details(msg: dict) -> list[tuple[str, str, str, str]]:
    """(detail type, value, source, origin) the channel itself gives for the sender."""
    sender, channel = msg["sender"], msg["channel"]
    details = []
    if channel == "whatsapp":
        if sender.get("phone"):   # WhatsApp vouches for the wa_id's number
            details.append(("phone", sender["phone"], "platform_verified", "profile"))
        if sender.get("phone") and sender.get("platform_user_id"):   # the BSUID beside the number: link the two
            details.append(("platform_user", sender["platform_user_id"], "platform_verified", "profile"))
        elif sender.get("id_type") == "platform_id":   # a customer hiding the number: known by the BSUID alone
            details.append(("platform_user", sender["external_id"], "platform_verified", "profile"))
        changed = (msg.get("attributes") or {})
        if changed.get("system_type") == NUMBER_CHANGED and changed.get("new_wa_id"):
            details.append(("phone", changed["new_wa_id"], "platform_verified", "number_change"))
    elif channel in ("web", "open"):                    # typed into the widget form / sent by the integration
        details += [("email", sender.get("email"), "customer_volunteered", "form"),
                    ("phone", sender.get("phone"), "customer_volunteered", "form")]
    return [d for d in (_normalized(*d) for d in details if d[1]) if d]


def text_details(text: str | None, region: str | None) -> list[tuple[str, str, str, str]]:
    """Emails and phone numbers in a message's text, normalized (at most MAX_FOUND)."""
    if not text:
        return []
    found = [("email", m.group(0)) for m in EMAIL.finditer(text)]
    without_emails = EMAIL.sub(" ", text)
    found += [("phone", phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
              for m in phonenumbers.PhoneNumberMatcher(without_emails, region, leniency=phonenumbers.Leniency.VALID)]
    details = [_normalized(kind, value, "customer_volunteered", "text") for kind, value in found]
    unique = list(dict.fromkeys(d for d in details if d))
    return unique[:MAX_FOUND]


def _normalized(kind: str, value: str, source: str, origin: str) -> tuple[str, str, str, str] | None:
    normalized = normalize_detail(kind, value)
    return (kind, normalized, source, origin) if normalized else None
