"""Bullseye rings: as a conversation waits longer, its requirements relax ring by ring.

Ring 1 asks for every skill at its minimum proficiency. Each later ring is entered when the
previous one's `timeout_seconds` ran out and applies its relaxations cumulatively (skills removed,
proficiency lowered, language dropped) — Genesys bullseye routing, at most 6 rings.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import Queue


@dataclass(frozen=True)
class Requirements:
    """What an agent must have to be eligible for a conversation in its current ring."""

    ring: int  # 1-based, as operators name rings
    skills: dict[str, int]
    language: str | None
    relaxed: tuple[str, ...] = ()  # what the rings dropped so far, for the audit


def ring_index(queue: Queue, waited_ms: int) -> int:
    """The 0-based ring a conversation that waited `waited_ms` is in."""
    elapsed = 0.0
    for index, ring in enumerate(queue.rings[:-1]):
        if ring.timeout_seconds is None:
            return index
        elapsed += ring.timeout_seconds * 1000
        if waited_ms < elapsed:
            return index
    return len(queue.rings) - 1


def next_ring_at(queue: Queue, entered_at: int, now: int) -> int | None:
    """When the conversation enters its next ring (None in the last ring)."""
    boundary = entered_at
    for ring in queue.rings[:-1]:
        if ring.timeout_seconds is None:
            return None
        boundary += int(ring.timeout_seconds * 1000)
        if boundary > now:
            return boundary
    return None


def requirements(queue: Queue, skills: dict[str, int], language: str | None,
                 waited_ms: int) -> Requirements:
    """The conversation's requirements after the relaxations of every ring reached so far."""
    index = ring_index(queue, waited_ms)
    skills, relaxed = dict(skills), []
    for ring in queue.rings[:index + 1]:
        for name in ring.remove_skills:
            if skills.pop(name, None) is not None:
                relaxed.append(f"removed skill {name}")
        if ring.lower_proficiency:
            skills = {name: max(0, level - ring.lower_proficiency) for name, level in skills.items()}
            relaxed.append(f"proficiency -{ring.lower_proficiency}")
        if ring.drop_language and language:
            language, relaxed = None, relaxed + ["dropped language"]
    return Requirements(index + 1, skills, language, tuple(relaxed))
