"""Who may take a conversation, and who is best: pure functions over profiles and agent state.

Eligible: on-queue, capacity left for the conversation's media type (and no other media in
progress that this one may not interrupt), every required skill at the minimum proficiency, the
conversation's language. Ranked by proficiency on the required skills, then fewest active
conversations, then longest idle (Twilio TaskRouter's default ordering), then agent id.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from .config import Agent, RoutingConfig
from .model import ON_QUEUE, AgentState
from .rings import Requirements


@dataclass(frozen=True)
class Candidate:
    """One agent as the selection saw it: excluded with a reason, or eligible with its ranking."""

    agent_id: str
    excluded: str | None
    proficiency: int = 0
    active: int = 0
    idle_since: int = 0
    rank: int | None = None


def capacity_problem(config: RoutingConfig, agent: AgentState, media: str) -> str | None:
    """Why the agent cannot take one more conversation of `media` now (None: they can)."""
    if agent.presence != ON_QUEUE:
        return f"presence {agent.presence}"
    capacity, held = config.capacity(agent.agent_id, media), agent.held(media)
    if held >= capacity:
        return f"at capacity {held}/{capacity} {media}"
    for work in agent.work.values():
        if work.holds_capacity and work.media != media and media not in interrupters(config, work.media):
            return f"busy with {work.media}, which {media} may not interrupt"
    return None


def interrupters(config: RoutingConfig, media: str) -> tuple[str, ...]:
    """The media types that may be offered while `media` is in progress (none if it is no longer configured)."""
    entry = config.utilization.get(media)
    return entry.interruptible_by if entry else ()


def skill_problem(profile: Agent, needs: Requirements) -> str | None:
    """Why the agent's skills or languages do not meet the requirements (None: they do)."""
    for name, minimum in needs.skills.items():
        level = profile.skills.get(name)
        if level is None:
            return f"lacks skill {name}"
        if level < minimum:
            return f"skill {name} {level} < {minimum}"
    if needs.language and needs.language not in profile.languages:
        return f"does not speak {needs.language}"
    return None


def rank(eligible: list[tuple[int, int, int, str]], excluded: list[Candidate],
         best: int = 10) -> list[Candidate]:
    """The `best` eligible ranked 1..n, then up to `best` excluded (what an audit record lists).

    `eligible` holds sort keys (-proficiency, active, idle since, agent id): only the few best are
    ordered (heapq), so ranking stays cheap when thousands of agents are free.
    """
    top = heapq.nsmallest(best, eligible)
    return [Candidate(key[3], None, -key[0], key[1], key[2], i + 1) for i, key in enumerate(top)] + excluded[:best]


def why_winner(winner: Candidate, runner_up: Candidate | None) -> str:
    """The tie-break that decided between the best two candidates."""
    if runner_up is None:
        return "the only eligible agent"
    if winner.proficiency != runner_up.proficiency:
        return f"highest proficiency ({winner.proficiency} > {runner_up.proficiency})"
    if winner.active != runner_up.active:
        return f"fewest active conversations ({winner.active} < {runner_up.active})"
    if winner.idle_since != runner_up.idle_since:
        return "longest idle"
    return "tie broken by agent id"
