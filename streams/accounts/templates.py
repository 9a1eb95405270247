"""WhatsApp's template catalogue check: the template exists for the account's WABA, is APPROVED,
and its parameters match the catalogue's count and types — before any call to the platform.

Meta refuses the same at send time: 132001 "Template name does not exist in the translation",
132000 "Number of parameters does not match the expected number of params", 132015/132016 a
paused or disabled template (docs/channels/whatsapp.md).
"""
from __future__ import annotations

from datetime import date, datetime

from channels.verdicts import Rejected

SYNC_HINT = "deliver syncs every WhatsApp account's catalogue from the template API when it starts"


def waba_of(account) -> str:
    """The WhatsApp Business Account whose catalogue an account uses (its own id when unset)."""
    return getattr(account, "waba_id", None) or account.account_id


def find(state: dict, waba_id: str, name: str, language: str) -> tuple[dict | None, dict | None]:
    """(catalogue of the WABA, its template of that name and language), each None when absent."""
    catalogue = next((c for c in state["catalogues"] if c["waba_id"] == waba_id), None)
    template = next((t for t in (catalogue or {}).get("templates", [])
                     if t["name"] == name and t["language"] == language), None)
    return catalogue, template


def check(state: dict, outbound: dict, account) -> dict | Rejected:
    """The catalogue's template for `outbound`, or why it may not be sent."""
    wanted, waba = outbound["template"], waba_of(account)
    catalogue, template = find(state, waba, wanted["name"], wanted["language"])
    label = f"template {wanted['name']!r} ({wanted['language']})"
    if template is None and (catalogue is None or catalogue["synced_at"] is None):
        return Rejected("template.catalogue_missing", f"the template catalogue of WABA {waba} was never synced, "
                        f"so {label} cannot be checked: {SYNC_HINT}")
    if template is None:
        return Rejected("template.unknown", f"{label} is not in the catalogue of WABA {waba} (WhatsApp 132001)")
    if template["status"] != "APPROVED":
        return Rejected("template.not_approved", f"{label} is {template['status']}, not APPROVED: it cannot be sent")
    problem = parameters_problem(wanted.get("parameters") or [], template["parameters"])
    return Rejected("template.parameters", f"{label}: {problem} (WhatsApp 132000)") if problem else template


def parameters_problem(values: list[str], types: list[str]) -> str | None:
    """What is wrong with the parameter values for the declared types, or None."""
    if len(values) != len(types):
        return f"{len(values)} parameters given, the template has {len(types)}"
    for n, (value, kind) in enumerate(zip(values, types), start=1):
        if not VALID.get(kind.lower(), _text)(value):
            return f"parameter {n} ({kind}) is not valid: {value!r}"
    return None


def _text(value: str) -> bool:
    return bool(value and value.strip())


def _number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def _date_time(value: str) -> bool:
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            parse(value)
            return True
        except ValueError:
            pass
    return False


# Each declared parameter type -> its check; media types (image, document, video) carry a link or
# media id, checked like text (non-empty); an unknown type too.
VALID = {"text": _text, "currency": _number, "number": _number, "date_time": _date_time}
