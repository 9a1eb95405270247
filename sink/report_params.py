"""A view's parameters from a request or a command line: parsed, checked, bound (never spliced).

`given` maps a parameter to its values as a query string carries them (`queue=a&queue=b`). Each
refusal is a BadParameter whose one line names the fix; the tenant never comes from `given`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .metrics import DEFAULTS
from .views import FILTERS, GRANULARITY, BadParameter, View

DIRECTIONS = ("inbound", "outbound")
MAX_LIMIT = 10_000
# Parameters of the API and the CLI themselves, and the granularity a summary view has no use for
# (one query string serves a summary and its detail).
OUTER = ("format", "tenant", "granularity")


def _one(given: Mapping[str, list[str]], name: str) -> str | None:
    values = [v for v in given.get(name, []) if v != ""]
    if len(values) > 1:
        raise BadParameter(f"{name} given {len(values)} times: give it once")
    return values[0] if values else None


def _zone(text: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(text or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise BadParameter(f"unknown time zone {text!r}: give an IANA name such as tz=Europe/Paris") from None


def _instant(name: str, text: str, zone: ZoneInfo) -> datetime:
    """An ISO date or date-time; without an offset, on the viewer's clock (`tz`)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{name}={text!r} is not ISO 8601: give e.g. {name}=2026-12-01T07:30:00Z") from None
    return (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(timezone.utc)


def _interval(given, zone: ZoneInfo, now: datetime) -> dict:
    """from (default: the viewer's local midnight today) and to (default: now), half open."""
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone).astimezone(timezone.utc)
    start = _instant("from", text, zone) if (text := _one(given, "from")) else midnight
    end = _instant("to", text, zone) if (text := _one(given, "to")) else now
    if end <= start:
        raise BadParameter("to must be after from: give from=… earlier than to=…")
    return {"from": start, "to": end}


def _filter(given, name: str) -> list[str]:
    values = [v for v in given.get(name, []) if v != ""]
    if name == "direction" and set(values) - set(DIRECTIONS):
        raise BadParameter(f"direction is inbound or outbound, not {sorted(set(values) - set(DIRECTIONS))}")
    return values


def _count(given, name: str, default: int, top: int) -> int:
    text = _one(given, name)
    if text is None:
        return default
    if not text.isdigit() or not 0 <= int(text) <= top:
        raise BadParameter(f"{name}={text!r}: give a whole number from 0 to {top}")
    return int(text)


def bind(v: View, tenant: str, given: Mapping[str, list[str]], now: datetime | None = None) -> dict:
    """The ClickHouse parameters of view `v` for the tenant and the caller's `given` values."""
    unknown = set(given) - set(v.parameters) - set(OUTER)
    if unknown:
        raise BadParameter(f"unknown parameter {sorted(unknown)[0]!r}: {v.name} takes {', '.join(v.parameters)}")
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    zone, bound = _zone(_one(given, "tz")), v.bound
    params = {"tenant": tenant, "tz": zone.key} | _interval(given, zone, now)
    granularity = _one(given, "granularity") or "30m"
    if granularity not in GRANULARITY:
        raise BadParameter(f"granularity={granularity!r}: give one of {', '.join(GRANULARITY)}")
    params["minutes"] = GRANULARITY[granularity]
    if "now" in bound:
        params["now"] = _instant("now", text, zone) if (text := _one(given, "now")) else now
    if "conversation" in bound:
        params["conversation"] = _one(given, "conversation")
        if not params["conversation"]:
            raise BadParameter("give the conversation: /api/v1/reports/interaction/{conversation_id}")
    params |= {name: _filter(given, name) for name in FILTERS}
    params |= {name: _count(given, name, default, 1) for name, default in DEFAULTS.items()}
    params["limit"] = _count(given, "limit", 1000, MAX_LIMIT)
    return {k: val for k, val in params.items() if k in bound}


def defaults(v: View, tenant: str) -> dict:
    """Parameters that bind every placeholder of `v` (to describe its columns)."""
    return bind(v, tenant, {"conversation": ["-"]} if "conversation" in v.bound else {})
