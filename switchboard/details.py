"""The one place details are normalized (the identity-claim contract), shared by the edge and the identity matcher.

The identity-claim contract: emails lower-cased and trimmed, phones as E.164 digits without '+'.
Names are only compared, never keyed: case, accents, punctuation and spacing do not count.
"""
from __future__ import annotations

import re
import unicodedata

NOT_DIGITS = re.compile(r"\D")
NOT_WORD = re.compile(r"[^\w\s]")
# E.164 (ITU-T): at most 15 digits including the country code; shorter than 7 is not a subscriber.
PHONE_DIGITS = range(7, 16)
# "00" is the international call prefix in most of the world: 0044… dials +44….
INTERNATIONAL_PREFIX = "00"


def normalize_email(value: str | None) -> str | None:
    """Lower-cased and trimmed; None when it is not an address (no '@' between two parts)."""
    email = (value or "").strip().lower()
    local, at, domain = email.rpartition("@")
    return email if at and local and domain and " " not in email else None


def normalize_phone(value: str | None) -> str | None:
    """E.164 digits without '+' ('+44 20 7946-0958' -> '442079460958'); None when not a number."""
    digits = NOT_DIGITS.sub("", value or "")
    if digits.startswith(INTERNATIONAL_PREFIX) and not (value or "").strip().startswith("+"):
        digits = digits[len(INTERNATIONAL_PREFIX):]
    return digits if len(digits) in PHONE_DIGITS else None


def normalize_detail(detail_type: str, value: str | None) -> str | None:
    """The normalized value of an `email`, `phone` or `platform_user` detail (None: not a usable detail);
    a platform user id (WhatsApp's BSUID) is kept as the platform gives it, trimmed."""
    if detail_type == "email":
        return normalize_email(value)
    if detail_type == "phone":
        return normalize_phone(value)
    if detail_type == "platform_user":
        return (value or "").strip() or None
    raise ValueError(f"unknown detail type {detail_type!r}: expected email, phone or platform_user")


def claim_key(tenant_id: str, detail_type: str, value: str) -> str:
    """The identity-claims key of a normalized detail: `<tenant>:<email or phone>:<value>`."""
    return f"{tenant_id}:{detail_type}:{value}"


def normalize_name(value: str | None) -> str | None:
    """'  María  LÓPEZ-Díaz ' -> 'maria lopez diaz'; None when nothing is left."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = NOT_WORD.sub(" ", plain).split()
    return " ".join(words) or None


def names_compatible(a: str | None, b: str | None) -> bool:
    """True unless both names are known and neither's words contain the other's ('maria' ~ 'maria lopez')."""
    words_a, words_b = set((normalize_name(a) or "").split()), set((normalize_name(b) or "").split())
    return not words_a or not words_b or words_a <= words_b or words_b <= words_a
