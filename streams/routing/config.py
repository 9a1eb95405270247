"""A tenant's routing configuration as data: `<routing_dir>/<tenant>.yaml` (rules, queues, agents).

Validated with pydantic so a wrong file is refused with a message naming the field; reloaded when
the file changes (the worker checks its modification time on every tick), no restart needed.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .domains import DomainIndex, RoutingDomain, domain_index, domain_problems

log = logging.getLogger(__name__)
MAX_RINGS = 6  # Genesys bullseye routing: at most 6 rings
MAX_CAPACITY = 50  # Twilio TaskRouter per-channel capacity limit (Genesys: 25 per media type)
Proficiency = Field(ge=0, le=5)


class RoutingConfigError(ValueError):
    """A routing file that cannot be used; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Media(_Model):
    """Utilization of one media type: how many at once, and which media may interrupt it."""

    capacity: int = Field(ge=0, le=MAX_CAPACITY)
    interruptible_by: tuple[str, ...] = ()


class Ring(_Model):
    """One bullseye ring: how long a conversation stays in it, and what it relaxes on entry."""

    timeout_seconds: float | None = Field(None, gt=0)
    remove_skills: tuple[str, ...] = ()
    lower_proficiency: int = Field(0, ge=0, le=5)
    drop_language: bool = False


class Acw(_Model):
    """After-call work: optional, mandatory, or time-boxed with a default code on expiry."""

    mode: Literal["optional", "mandatory", "time_boxed"] = "optional"
    timeout_seconds: float = Field(120, gt=0)
    default_code: str | None = None

    @model_validator(mode="after")
    def _time_boxed_needs_code(self) -> "Acw":
        if self.mode == "time_boxed" and not self.default_code:
            raise ValueError("acw mode time_boxed needs a default_code (applied when time runs out)")
        return self


class ServiceLevel(_Model):
    """Service-level target: `percent` of conversations answered within `seconds`."""

    percent: float = Field(80, gt=0, le=100)
    seconds: float = Field(60, gt=0)


class FlowOut(_Model):
    """Overflow: a conversation nobody answered within `after_seconds` of entering the queue moves to
    `queue` (a new queue visit there; the one here ends `flowed_out`, docs/metrics.md)."""

    after_seconds: float = Field(gt=0)
    queue: str = Field(min_length=1)


class DeadlineBoost(_Model):
    """One step of the reply-deadline curve: `add` priority once the customer's window closes within
    `within_minutes` (the smallest window that holds the time left decides)."""

    within_minutes: float = Field(gt=0, le=7 * 24 * 60)
    add: int = Field(ge=0, le=1000)


# Inside the last hour of a WhatsApp 24 h window +10 minutes of virtual age, inside 4 hours +5.
DEFAULT_DEADLINE_BOOST = (DeadlineBoost(within_minutes=60, add=10), DeadlineBoost(within_minutes=240, add=5))


def _check_curve(steps: tuple[DeadlineBoost, ...] | None) -> tuple[DeadlineBoost, ...] | None:
    if steps is None:
        return None
    windows = [s.within_minutes for s in steps]
    if len(set(windows)) != len(windows):
        raise ValueError(f"deadline_boost names a within_minutes twice: {windows}")
    return tuple(sorted(steps, key=lambda s: s.within_minutes))


class Queue(_Model):
    """A queue: required skills, alert timeout, wrap-up, service level, abandon, bullseye rings, deadline curve."""

    skills: dict[str, int] = {}
    alert_timeout_seconds: float = Field(30, gt=0)
    acw: Acw = Acw()
    wrapup_codes: tuple[str, ...] = ()
    service_level: ServiceLevel = ServiceLevel()
    # Abandon of asynchronous messaging (docs/metrics.md "Abandon"): a conversation closed or expired
    # before any agent answered is abandoned; so is one whose customer wrote nothing for
    # `abandon_after_silence_seconds` while it waited (None: silence never abandons). An abandon
    # within `short_abandon_seconds` of entering the queue is a short abandon (Genesys' short-abandon
    # threshold; 10 s here), which service level may leave out.
    short_abandon_seconds: float = Field(10, ge=0)
    abandon_after_silence_seconds: float | None = Field(None, gt=0)
    rings: tuple[Ring, ...] = (Ring(),)
    deadline_boost: tuple[DeadlineBoost, ...] | None = None  # None: the file's `deadline_boost`
    flow_out: FlowOut | None = None  # None: a conversation waits here until answered or abandoned

    @field_validator("skills")
    @classmethod
    def _proficiency_range(cls, skills: dict[str, int]) -> dict[str, int]:
        return _check_proficiency(skills)

    @field_validator("deadline_boost")
    @classmethod
    def _curve(cls, steps):
        return _check_curve(steps)

    @field_validator("rings")
    @classmethod
    def _ring_count(cls, rings: tuple[Ring, ...]) -> tuple[Ring, ...]:
        if not 1 <= len(rings) <= MAX_RINGS:
            raise ValueError(f"a queue has 1 to {MAX_RINGS} rings, not {len(rings)}")
        return rings


class Agent(_Model):
    """An agent's routing profile: skills (0–5), languages, queues, capacity overrides."""

    skills: dict[str, int] = {}
    languages: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    capacity: dict[str, int] = {}

    @field_validator("skills")
    @classmethod
    def _proficiency_range(cls, skills: dict[str, int]) -> dict[str, int]:
        return _check_proficiency(skills)


class When(_Model):
    """A rule's conditions: every one given must hold (keywords OR regex, AND channels)."""

    keywords: dict[str, tuple[str, ...]] | tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None
        return patterns


class Then(_Model):
    """What a rule sets: queue, skills with minimum proficiency, priority, language."""

    queue: str | None = None
    skills: dict[str, int] = {}
    priority: int = Field(0, ge=0, le=1000)
    language: str | None = None

    @field_validator("skills")
    @classmethod
    def _proficiency_range(cls, skills: dict[str, int]) -> dict[str, int]:
        return _check_proficiency(skills)


class Rule(_Model):
    """One ordered rule: the first that matches decides."""

    name: str = Field(min_length=1)
    when: When = When()
    then: Then


class LastAgent(_Model):
    """Sticky routing: wait this long for a busy last agent; `any` queue or the conversation's."""

    wait_seconds: float = Field(60, ge=0)
    scope: Literal["any", "queue"] = "any"


class RoutingConfig(_Model):
    """One tenant's routing: rules, queues, agents, utilization, last-agent routing."""

    tenant: str = ""
    default_queue: str
    rules: tuple[Rule, ...] = ()
    queues: dict[str, Queue]
    agents: dict[str, Agent] = {}
    utilization: dict[str, Media] = {"messaging": Media(capacity=4)}
    channel_media: dict[str, str] = {}
    last_agent: LastAgent = LastAgent()
    messages_considered: int = Field(3, ge=1, le=20)
    deadline_boost: tuple[DeadlineBoost, ...] = DEFAULT_DEADLINE_BOOST
    domains: dict[str, RoutingDomain] = {}  # none: the tenant is one routing domain (docs/routing.md)
    _index: DomainIndex | None = PrivateAttr(None)  # the tenant's, also on each domain's view
    _whole: "RoutingConfig | None" = PrivateAttr(None)  # a domain's view: the tenant's configuration
    _domain: str | None = PrivateAttr(None)  # a domain's view: its name

    @field_validator("deadline_boost")
    @classmethod
    def _curve(cls, steps):
        return _check_curve(steps)

    @model_validator(mode="after")
    def _references_exist(self) -> "RoutingConfig":
        problems = _dangling(self) or domain_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.domains:
            self._index = domain_index(self)
        return self

    @property
    def whole(self) -> "RoutingConfig":
        """The tenant's configuration (a domain's view answers its tenant's)."""
        return self._whole or self

    @property
    def index(self) -> DomainIndex | None:
        """Where each queue, agent and channel account is routed; None: one domain, the tenant."""
        return self._index

    @property
    def domain(self) -> str | None:
        """The name of the domain this view is of (None: the tenant's whole configuration)."""
        return self._domain

    def for_domain(self, name: str) -> "RoutingConfig":
        """One domain's view: its queues, its agents, the rules that send to its queues (or to none)."""
        if name not in self.domains:
            raise RoutingConfigError(f"routing domain {name!r} is not in {self.tenant}'s routing file")
        index, mine = self._index, self.domains[name]
        default = mine.default_queue or (self.default_queue if self.default_queue in mine.queues else mine.queues[0])
        view = self.model_copy(update={
            "default_queue": default, "queues": {q: self.queues[q] for q in mine.queues},
            "agents": {a: p for a, p in self.agents.items() if index.agents[a] == name},
            "rules": tuple(r for r in self.rules if r.then.queue is None or r.then.queue in mine.queues)})
        view._whole, view._domain = self, name
        return view

    def media_of(self, channel: str) -> str:
        """The media type a channel's conversations use (every messaging channel: `messaging`)."""
        return self.channel_media.get(channel, "messaging")

    def deadline_curve(self, queue_id: str) -> tuple[DeadlineBoost, ...]:
        """The reply-deadline curve of a queue (its own, else the file's), smallest window first."""
        queue = self.queues.get(queue_id)
        return queue.deadline_boost if queue and queue.deadline_boost is not None else self.deadline_boost

    def capacity(self, agent_id: str, media: str) -> int:
        """How many conversations of `media` the agent may hold at once."""
        agent = self.agents.get(agent_id)
        if agent and media in agent.capacity:
            return agent.capacity[media]
        return self.utilization[media].capacity if media in self.utilization else 0


def _check_proficiency(skills: dict[str, int]) -> dict[str, int]:
    bad = {name: level for name, level in skills.items() if not 0 <= level <= 5}
    if bad:
        raise ValueError(f"proficiency must be 0-5: {bad}")
    return skills


def _dangling(config: RoutingConfig) -> list[str]:
    queues = set(config.queues)
    problems = [] if config.default_queue in queues else [f"default_queue {config.default_queue!r} is not a queue"]
    problems += [f"rule {r.name!r} sends to unknown queue {r.then.queue!r}"
                 for r in config.rules if r.then.queue and r.then.queue not in queues]
    problems += [f"agent {a!r} is on unknown queue {q!r}"
                 for a, agent in config.agents.items() for q in agent.queues if q not in queues]
    problems += [f"queue {q!r} flow_out goes to unknown queue {queue.flow_out.queue!r}"
                 for q, queue in config.queues.items() if queue.flow_out and queue.flow_out.queue not in queues]
    problems += [f"queue {q!r} flow_out goes to itself: name another queue"
                 for q, queue in config.queues.items() if queue.flow_out and queue.flow_out.queue == q]
    problems += [f"media type {m!r} has no utilization entry"
                 for m in set(config.channel_media.values()) - set(config.utilization)]
    names = [r.name for r in config.rules]
    problems += [f"rule name {n!r} is used twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return problems


def parse_config(text: str, tenant: str, source: str = "<text>") -> RoutingConfig:
    """A validated configuration from YAML text; RoutingConfigError names the problem."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RoutingConfigError(f"{source}: {exc}") from None
    return config_from_data(data, tenant, source)


def config_from_data(data: dict, tenant: str, source: str) -> RoutingConfig:
    """A validated configuration from parsed data (a file's, or the directory's)."""
    try:
        return RoutingConfig(**{**data, "tenant": tenant})
    except (ValidationError, TypeError) as exc:
        raise RoutingConfigError(f"{source}: {exc}") from None


def config_path(routing_dir: Path, tenant: str) -> Path:
    """Where a tenant's routing file lives."""
    return Path(routing_dir) / f"{tenant}.yaml"


def load_config(routing_dir: Path, tenant: str) -> RoutingConfig:
    """The tenant's validated routing file."""
    path = config_path(routing_dir, tenant)
    if not path.exists():
        raise RoutingConfigError(f"{path}: no routing file for tenant {tenant!r}")
    return parse_config(path.read_text(), tenant, str(path))


# The routing of a tenant nobody configured: one queue, `general`, no rules, no agents.
DEFAULT_ROUTING = {"default_queue": "general", "queues": {"general": {}}}


def default_config(tenant: str) -> RoutingConfig:
    """`DEFAULT_ROUTING` for `tenant` (its requests route instead of dead-lettering)."""
    return config_from_data(DEFAULT_ROUTING, tenant, "default")


class ConfigCache:
    """Routing files by tenant, re-read when their modification time changes."""

    def __init__(self, routing_dir: Path):
        self.routing_dir = Path(routing_dir)
        self._entries: dict[str, tuple[float, RoutingConfig]] = {}

    def get(self, tenant: str) -> RoutingConfig:
        """The current configuration (the last valid one if the file became invalid; `default_config`
        for a tenant with no file, logged once, so its requests route instead of dead-lettering)."""
        path = config_path(self.routing_dir, tenant)
        mtime = path.stat().st_mtime if path.exists() else -1.0
        cached = self._entries.get(tenant)
        if cached and cached[0] == mtime:
            return cached[1]
        if mtime < 0:
            log.warning("tenant %r has no routing file %s: routing with one queue `general`", tenant, path)
            self._entries[tenant] = (mtime, default_config(tenant))
            return self._entries[tenant][1]
        try:
            config = load_config(self.routing_dir, tenant)
        except RoutingConfigError as exc:
            if cached:  # keep routing with the last good file
                log.error("routing file refused, the last good one stays in force: %s", exc)
                self._entries[tenant] = (mtime, cached[1])  # say it once per change of the file
                return cached[1]
            raise
        self._entries[tenant] = (mtime, config)
        return config

    def tenants(self) -> list[str]:
        """Every tenant with a routing file."""
        return sorted(p.stem for p in self.routing_dir.glob("*.yaml"))
