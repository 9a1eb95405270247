"""WhatsApp messaging-limit tiers as data: deploy/policy/whatsapp-tiers.yaml, dated ladders.

`load_tiers` reads and validates the file once (UserError naming the file and the mistake);
`Ladders.limit(tier, at)` is pure: the unique recipients per rolling 24 h that `tier` allows under
the ladder in force at `at` (None: unlimited).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchboard.datafiles import load_model

TIERS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "policy" / "whatsapp-tiers.yaml"


class Ladder(BaseModel):
    """The tiers in force from a date on: tier name -> unique recipients per 24 h (None: unlimited)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    effective_from: date
    tiers: dict[str, int | None] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _positive(cls, tiers: dict[str, int | None]) -> dict[str, int | None]:
        for name, limit in tiers.items():
            if not name.startswith("TIER_"):
                raise ValueError(f"tier {name!r}: names are Meta's (TIER_250, TIER_2K, …, TIER_UNLIMITED)")
            if limit is not None and limit <= 0:
                raise ValueError(f"tier {name}: a limit must be positive (null: unlimited)")
        return tiers

    def lowest(self) -> int | None:
        """The smallest limit of the ladder (an unknown tier counts at it)."""
        limits = [v for v in self.tiers.values() if v is not None]
        return min(limits) if limits else None


class Ladders(BaseModel):
    """The whole file: ladders by effective date."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ladders: list[Ladder] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_dates(self):
        dates = [ladder.effective_from for ladder in self.ladders]
        if len(set(dates)) != len(dates):
            raise ValueError("two ladders with the same effective_from")
        return self

    def at(self, at_ms: int) -> Ladder:
        """The ladder in force at `at_ms` (the oldest one before every date)."""
        day = datetime.fromtimestamp(at_ms / 1000, timezone.utc).date()
        ordered = sorted(self.ladders, key=lambda ladder: ladder.effective_from)
        return next((ladder for ladder in reversed(ordered) if ladder.effective_from <= day), ordered[0])

    def limit(self, tier: str | None, at_ms: int) -> int | None:
        """Unique recipients per rolling 24 h for `tier` at `at_ms`; an unknown tier: the lowest."""
        ladder = self.at(at_ms)
        return ladder.tiers[tier] if tier in ladder.tiers else ladder.lowest()


def load_tiers(path: Path) -> Ladders:
    """The tier ladders in `path`, validated; UserError naming the file and the mistake."""
    return load_model(Ladders, path, "WhatsApp tier ladder")


@cache
def tiers() -> Ladders:
    """The deployment's ladders (TIERS_FILE), read once."""
    return load_tiers(TIERS_FILE)
