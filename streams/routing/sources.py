"""Routing configurations from the directory: each tenant's `routing` entry plus its agents.

The same interface as `ConfigCache` (`get(tenant)`, `tenants()`), so the router does not care
where configuration comes from. A configuration is rebuilt when the directory changed; an entry
that does not validate is refused with a log line and the last good one stays in force, as with
the files. A tenant with no routing entry uses its routing file when there is one (the seed's
source: a worker started before `switchboard admin seed` still routes), else `DEFAULT_ROUTING` (one
queue, `general`) instead of dead-lettering its requests. People of the directory are added to the
file's agents (and override them).
"""
from __future__ import annotations

import logging
from pathlib import Path

import yaml

from switchboard.directory import DirectoryView

from .config import DEFAULT_ROUTING, RoutingConfig, RoutingConfigError, config_from_data, config_path

log = logging.getLogger(__name__)
ROUTING_FIELDS = ("skills", "languages", "queues", "capacity")


def routing_data(view: DirectoryView, tenant: str, file_data: dict | None = None) -> dict:
    """The tenant's routing as data: the routing entry (else the file, else DEFAULT_ROUTING) and its agents."""
    base = dict(file_data or {})
    agents = dict(base.pop("agents", None) or {})
    routing = {k: v for k, v in (view.routing(tenant) or base or DEFAULT_ROUTING).items() if k != "id"}
    for person in view.people(tenant, role="agent"):
        agents.pop(person["id"], None)
        if not person.get("disabled"):
            agents[person["id"]] = {f: person[f] for f in ROUTING_FIELDS if person.get(f)}
    return {**routing, "agents": agents}


class DirectoryConfigs:
    """Validated routing configurations by tenant, rebuilt when the directory changes."""

    def __init__(self, view: DirectoryView, routing_dir: Path | None = None):
        self.view, self.routing_dir = view, routing_dir
        self._entries: dict[str, tuple[tuple, RoutingConfig]] = {}
        self._warned: set[str] = set()

    def get(self, tenant: str) -> RoutingConfig:
        """The tenant's configuration (the last valid one if the directory's or file's became invalid)."""
        path = config_path(self.routing_dir, tenant) if self.routing_dir else None
        mtime = path.stat().st_mtime if path and path.exists() else -1.0
        version = (self.view.routing_version(tenant), mtime)   # a sign-out elsewhere rebuilds nothing
        cached = self._entries.get(tenant)
        if cached and cached[0] == version:
            return cached[1]
        try:
            file_data = yaml.safe_load(path.read_text()) if mtime >= 0 else None
            config = config_from_data(routing_data(self.view, tenant, file_data), tenant, f"directory:{tenant}")
        except (RoutingConfigError, yaml.YAMLError) as exc:
            if cached:  # keep routing with the last good configuration
                log.error("routing configuration refused, the last good one stays in force: %s", exc)
                self._entries[tenant] = (version, cached[1])
                return cached[1]
            raise RoutingConfigError(str(exc)) from None
        if self.view.routing(tenant) is None and file_data is None and tenant not in self._warned:
            self._warned.add(tenant)
            log.warning("tenant %r has no routing entry: routing with one queue `general` "
                        "(switchboard admin routing set --tenant %s FILE)", tenant, tenant)
        self._entries[tenant] = (version, config)
        return config

    def tenants(self) -> list[str]:
        """Every tenant in the directory or with a routing file."""
        files = {p.stem for p in self.routing_dir.glob("*.yaml")} if self.routing_dir else set()
        return sorted(set(self.view.tenants()) | files)
