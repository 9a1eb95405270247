"""What the platforms say about an account (account-event v1, from edge and deliver), applied to
the portfolio's state: template catalogues and statuses, quality rating and messaging-limit tier,
LINE's monthly quota. A raised tier releases held messages at once (`holds.release` runs after
every event); a lowered one applies to the next business-initiated message."""
from __future__ import annotations

from datetime import datetime

from .decide import LINE_DEFAULTS
from .state import entry


def _ms(value) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


def _template(t: dict) -> dict:
    return {"name": t["name"], "language": t["language"], "category": t["category"].lower(),
            "status": t["status"].upper(), "parameters": list(t.get("parameters") or []), "id": t.get("id")}


def _catalogue(state: dict, waba_id: str) -> dict:
    found = next((c for c in state["catalogues"] if c["waba_id"] == waba_id), None)
    if found is None:
        found = {"waba_id": waba_id, "synced_at": None, "templates": []}
        state["catalogues"].append(found)
    return found


def templates_synced(state: dict, event: dict) -> None:
    """The whole catalogue of a WABA: it replaces what was known."""
    catalogue = _catalogue(state, event.get("waba_id") or event["channel_account_id"])
    catalogue["templates"] = [_template(t) for t in event.get("templates") or []]
    catalogue["synced_at"] = _ms(event["occurred_at"])


def template_status(state: dict, event: dict) -> None:
    """One template changed (message_template_status_update): replace or add it."""
    catalogue = _catalogue(state, event.get("waba_id") or event["channel_account_id"])
    for changed in (_template(t) for t in event.get("templates") or []):
        same = [t for t in catalogue["templates"] if (t["name"], t["language"]) == (changed["name"], changed["language"])]
        if same and not changed["parameters"]:   # a status webhook names no parameters: keep the known ones
            changed["parameters"] = same[0]["parameters"]
        catalogue["templates"] = [t for t in catalogue["templates"] if t not in same] + [changed]


def quality_update(state: dict, event: dict) -> None:
    """phone_number_quality_update / account_update: the portfolio's tier and quality, at once."""
    if event.get("messaging_limit_tier"):
        state["tier"] = event["messaging_limit_tier"]
        state["tier_changed_at"] = _ms(event["occurred_at"])
    if event.get("quality_rating"):
        state["quality_rating"] = event["quality_rating"]


def quota_synced(state: dict, event: dict) -> None:
    """LINE's quota API: the month's limit and consumption; our count starts again from it."""
    quota = entry(state["line"], event["channel_account_id"], **LINE_DEFAULTS)
    at = _ms(event["occurred_at"])
    quota.update(synced_limit=event.get("quota_limit"), synced_used=event.get("quota_used"), synced_at=at, pushed=0)


# account-event kind -> how it changes the state (`other` changes nothing).
APPLY = {"templates_synced": templates_synced, "template_status": template_status,
         "quality_update": quality_update, "quota_synced": quota_synced}


def apply_event(state: dict, event: dict) -> None:
    """Apply one account event to a working copy of the state."""
    change = APPLY.get(event.get("kind"))
    if change is not None:
        change(state, event)
