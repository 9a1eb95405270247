"""Seeding the directory from the files a deployment already has (idempotent).

`deploy/routing/<tenant>.yaml` gives each tenant's routing entry and, from its `agents:`, routed
people without a password (the simulated agents); `deploy/people.yaml` gives tenants, the people
who sign in (demo passwords, hashed here), canned responses, web messaging deployments and entry
points. An entry already so is skipped; a person whose stored hash still verifies the file's
password keeps that hash (argon2 salts differ); a deployment id another tenant holds is refused
(ids are global: the widget's snippet names only the deployment).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import UserError

ROUTED = ("skills", "languages", "queues", "capacity")


def routing_entries(path, tenant: str, view) -> list[tuple[str, str, dict]]:
    """(kind, id, body) for one routing file: the routing entry and one person per agent."""
    from streams.routing.config import RoutingConfigError, parse_config

    text = Path(path).read_text()
    try:
        parse_config(text, tenant, str(path))
    except RoutingConfigError as exc:
        raise UserError(str(exc)) from None
    data = yaml.safe_load(text) or {}
    agents = data.pop("agents", {}) or {}
    entries = [("routing", "config", data)]
    for agent_id, profile in agents.items():
        current = {k: v for k, v in (view.person(tenant, agent_id) or {}).items() if k != "id"}
        body = {"name": agent_id, "role": "agent", **current, **{k: v for k, v in profile.items() if k in ROUTED}}
        entries.append(("person", agent_id, body))
    return entries


def _person(view, tenant: str, person_id: str, spec: dict) -> dict:
    from .auth import hash_password, verify_password

    spec = dict(spec)
    password = spec.pop("password", None)
    current = view.person(tenant, person_id) or {}
    body = {"role": "agent", **spec}
    if password:
        stored = current.get("password_hash")
        body["password_hash"] = stored if stored and verify_password(stored, password) else hash_password(password)
    return body


def _deployment(view, tenant: str, deployment_id: str, body: dict) -> tuple[str, str, str, dict]:
    owner = view.deployment(deployment_id)
    if owner is not None and owner[0] != tenant:
        raise UserError(f"deployment {deployment_id!r} of tenant {tenant!r} in the people file exists in tenant "
                        f"{owner[0]!r} (ids are global): rename it in the file")
    return tenant, "deployment", deployment_id, body


def people_entries(path, view) -> list[tuple[str, str, str, dict]]:
    """(tenant, kind, id, body) for the people file: tenants, people, canned responses, deployments
    and entry points."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    entries = []
    for tenant, spec in (data.get("tenants") or {}).items():
        entries.append((tenant, "tenant", tenant, {"name": tenant, **(spec.get("tenant") or {})}))
        entries += [(tenant, "person", pid, _person(view, tenant, pid, p)) for pid, p in (spec.get("people") or {}).items()]
        entries += [(tenant, "canned_response", cid, {"shortcut": "", **c})
                    for cid, c in (spec.get("canned_responses") or {}).items()]
        entries += [_deployment(view, tenant, did, d) for did, d in (spec.get("deployments") or {}).items()]
        entries += [(tenant, "entry_point", eid, e) for eid, e in (spec.get("entry_points") or {}).items()]
    return entries


def seed(admin, routing_dir, people_file) -> dict:
    """Publish every routing file and the people file; counts of written and unchanged entries."""
    counts = {"written": 0, "unchanged": 0}
    work = []
    for path in sorted(Path(routing_dir).glob("*.yaml")):
        if admin.view.tenant(path.stem) is None:
            work.append((path.stem, "tenant", path.stem, {"name": path.stem}))
        work += [(path.stem, kind, eid, body) for kind, eid, body in routing_entries(path, path.stem, admin.view)]
    if people_file and Path(people_file).exists():
        work += people_entries(people_file, admin.view)
    for tenant, kind, entry_id, body in work:
        counts["written" if admin.put(tenant, kind, entry_id, body) else "unchanged"] += 1
    return counts


def demo_people(people_file) -> list[tuple[str, str, str, str]]:
    """(tenant, id, role, demo password) of everyone the people file lets sign in."""
    data = yaml.safe_load(Path(people_file).read_text()) if Path(people_file).exists() else {}
    return [(tenant, pid, p.get("role", "agent"), p["password"])
            for tenant, spec in ((data or {}).get("tenants") or {}).items()
            for pid, p in (spec.get("people") or {}).items() if p.get("password")]
