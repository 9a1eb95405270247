"""Time zones in settings (a deployment's business hours, a tenant's quiet hours): IANA names, checked."""
from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def iana_zone(name: str) -> str:
    """`name` when the zone database knows it; ValueError naming the fix otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Madrid") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(iana_zone)]
