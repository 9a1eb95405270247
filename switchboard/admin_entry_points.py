"""`switchboard admin entry-points …` (see docs/channels/web.md): filled in by its change."""
from __future__ import annotations


def add_commands(sub, with_tenant) -> None:
    """Add this group's parsers to `switchboard admin`'s subparsers."""
