"""Detail normalization: one spelling per email and phone, names compared without case or accents."""
import pytest

from switchboard.details import (claim_key, names_compatible, normalize_detail, normalize_email,
                                        normalize_name, normalize_phone)


@pytest.mark.parametrize("raw,expected", [
    ("  Maria@Example.COM ", "maria@example.com"),
    ("maria", None), ("@example.com", None), ("maria@", None), ("ma ria@example.com", None), (None, None),
])
def test_emails(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("+1 (415) 555-0123", "14155550123"), ("14155550123", "14155550123"), ("0044 20 7946 0958", "442079460958"),
    ("+81-80-1234-5678", "818012345678"), ("12345", None), ("+1234567890123456", None), ("", None),
])
def test_phones_are_e164_digits_without_plus(raw, expected):
    assert normalize_phone(raw) == expected


def test_details_by_type_and_their_claim_key():
    assert normalize_detail("phone", "+1 415 555 0123") == "14155550123"
    assert claim_key("acme", "email", normalize_detail("email", "A@B.C")) == "acme:email:a@b.c"
    assert normalize_detail("platform_user", " US.13491208655302741918 ") == "US.13491208655302741918"   # a BSUID
    assert normalize_detail("platform_user", "  ") is None
    with pytest.raises(ValueError, match="unknown detail type"):
        normalize_detail("address", "1 Main St")


@pytest.mark.parametrize("a,b,compatible", [
    ("  María  LÓPEZ ", "maria lopez", True), ("Maria", "Maria Lopez", True), (None, "Kenji Sato", True),
    ("", "x", True), ("Maria Lopez", "Kenji Sato", False), ("Maria Lopez", "Maria Sato", False),
])
def test_names(a, b, compatible):
    assert names_compatible(a, b) is compatible


def test_name_normalization():
    assert normalize_name(" María  López-Díaz ") == "maria lopez diaz" and normalize_name(" - ") is None
