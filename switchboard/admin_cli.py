"""`switchboard admin`: people and configuration, written to the directory topic.

    switchboard admin seed [--routing-dir DIR] [--people FILE]
    switchboard admin tenant set --tenant T [--name N] [--system-sender ID ...] [--budget-daily D|none]
        [--budget-monthly M|none] [--quiet-hours 21:00-08:00|none] [--time-zone ZONE]
        [--opt-out-keywords LANG=WORD,WORD ...] [--opt-in-keywords LANG=WORD ...] [--language L ...]
    switchboard admin routing set --tenant T FILE        (validated first; agents: lines become people)
    switchboard admin routing show --tenant T
    switchboard admin people list --tenant T
    switchboard admin people add --tenant T ID --name N [--role agent|supervisor|admin] [--password-stdin]
                                 [--skill NAME=LEVEL ...] [--language L ...] [--queue Q ...] [--capacity MEDIA=N ...]
    switchboard admin people set --tenant T ID [same options]      (changes only what is given)
    switchboard admin people disable|enable|remove --tenant T ID
    switchboard admin canned list|add|remove --tenant T [ID] [--title T --text X --shortcut S --queue Q]
    switchboard admin sync-platforms     (WhatsApp template catalogues and LINE quotas → account-events, now)
    switchboard admin deployment create|set|show|list|disable|enable|remove --tenant T [ID] [...]
                                 (web messaging widget deployments: docs/channels/web.md)
    switchboard admin entry-point create|set|list|show|remove|link --tenant T [ID] [...]
                                 (click-to-chat links with their campaign: docs/entry-points.md)
    switchboard admin erase-customer --tenant T --customer C [--yes]
                                 (a customer's personal data, GDPR-style: docs/security.md "Erasure")

Every change is an event on the compacted `directory` topic; every role follows it live.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys

from .errors import UserError


def _pairs(values: list[str] | None, what: str) -> dict[str, int] | None:
    if values is None:
        return None
    try:
        return {k: int(v) for k, v in (item.split("=", 1) for item in values)}
    except ValueError:
        raise UserError(f"--{what} takes NAME=NUMBER, e.g. --{what} cards=3") from None


def _person_changes(args) -> dict:
    changes = {"name": args.name, "role": args.role, "skills": _pairs(args.skill, "skill"),
               "languages": args.language, "queues": args.queue, "capacity": _pairs(args.capacity, "capacity")}
    if getattr(args, "password_stdin", False):
        from .auth import hash_password

        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("password: ")
        if len(password) < 12:
            raise UserError("a password needs at least 12 characters")
        changes["password_hash"] = hash_password(password)
    return {k: v for k, v in changes.items() if v is not None}


class Admin:
    """The directory as the admin commands see it: a caught-up view and a writer."""

    def __init__(self, settings):
        from schemas import Codec

        from .directory import DirectoryView, DirectoryWriter

        codec = Codec.from_settings(settings)
        self.view = DirectoryView(settings.kafka_client_config(), codec).start()
        self.view.wait_ready()
        self.writer = DirectoryWriter(settings.kafka_client_config(), codec)
        self.by = f"cli:{getpass.getuser()}"

    def put(self, tenant: str, kind: str, entry_id: str, body: dict | None) -> bool:
        """Write an entry unless it is already so; whether anything was written."""
        from .directory import validated

        current = self.view.get(tenant, kind, entry_id)
        if body is not None and current is not None and \
                {**validated(kind, body), "id": entry_id} == _normalized(kind, current):
            return False
        if body is None and current is None:
            raise UserError(f"no {kind} {entry_id!r} in tenant {tenant!r}")
        self.writer.put(tenant, kind, entry_id, body, self.by)
        return True

    def close(self) -> None:
        """Stop reading, flush writing."""
        self.view.close()
        self.writer.close()


def _normalized(kind: str, entry: dict) -> dict:
    from .directory import validated

    return {**validated(kind, {k: v for k, v in entry.items() if k != "id"}), "id": entry["id"]}


def people_cmd(admin: Admin, args) -> object:
    """people list/add/set/disable/enable/remove."""
    from .directory import validated

    tenant = args.tenant
    if args.action == "list":
        return [{k: v for k, v in p.items() if k != "password_hash"} for p in admin.view.people(tenant)]
    current = admin.view.person(tenant, args.id)
    if args.action == "add" and current is not None:
        raise UserError(f"{args.id!r} exists in {tenant!r}: use `switchboard admin people set`")
    if args.action != "add" and current is None:
        raise UserError(f"no person {args.id!r} in tenant {tenant!r} (switchboard admin people list --tenant {tenant})")
    if args.action == "remove":
        return admin.put(tenant, "person", args.id, None)
    body = {k: v for k, v in (current or {}).items() if k != "id"}
    if args.action in ("disable", "enable"):
        body["disabled"] = args.action == "disable"
    else:
        body |= _person_changes(args)
    return admin.put(tenant, "person", args.id, validated("person", body))


def canned_cmd(admin: Admin, args) -> object:
    """canned list/add/remove."""
    if args.action == "list":
        return admin.view.canned(args.tenant, args.queue) if args.queue else admin.view.all(args.tenant, "canned_response")
    if args.action == "remove":
        return admin.put(args.tenant, "canned_response", args.id, None)
    body = {"title": args.title, "text": args.text, "shortcut": args.shortcut or "", "queue": args.queue}
    return admin.put(args.tenant, "canned_response", args.id, body)


def tenant_cmd(admin: Admin, args) -> object:
    """tenant set/show."""
    if args.action == "show":
        return admin.view.tenant(args.tenant)
    current = admin.view.tenant(args.tenant) or {}
    body = {k: v for k, v in current.items() if k != "id"} | {"name": current.get("name", args.tenant)}
    return admin.put(args.tenant, "tenant", args.tenant, body | _tenant_changes(args))


def _tenant_changes(args) -> dict:
    """The tenant fields the command line gives ("none" clears a budget or the quiet hours)."""
    given = {"name": args.name, "system_senders": args.system_sender, "time_zone": args.time_zone,
             "budget_daily": args.budget_daily, "budget_monthly": args.budget_monthly,
             "opt_out_keywords": _keywords(args.opt_out_keywords), "opt_in_keywords": _keywords(args.opt_in_keywords),
             "quiet_hours": _quiet_hours(args.quiet_hours), "languages": args.language}
    return {k: (None if v == "none" else v) for k, v in given.items() if v is not None}


def _quiet_hours(value: str | None) -> dict | str | None:
    if value in (None, "none"):
        return value
    start, sep, end = value.partition("-")
    if not sep:
        raise UserError(f"--quiet-hours {value!r}: give START-END (e.g. 21:00-08:00) or none")
    return {"start": start, "end": end}


def _keywords(pairs: list[str] | None) -> dict[str, list[str]] | None:
    """LANG=WORD,WORD options as {language: [words]} (the given languages replace the defaults)."""
    if pairs is None:
        return None
    out = {}
    for pair in pairs:
        language, sep, words = pair.partition("=")
        if not sep or not language:
            raise UserError(f"{pair!r}: give LANG=WORD[,WORD...] (e.g. es=BAJA,ALTO)")
        out[language] = [w.strip() for w in words.split(",") if w.strip()]
    return out


def routing_cmd(admin: Admin, args) -> object:
    """routing set/show (the file is checked as the routing worker would)."""
    from .seed import routing_entries

    if args.action == "show":
        return admin.view.routing(args.tenant)
    if not args.file:
        raise UserError("routing set needs the file: switchboard admin routing set --tenant T FILE")
    return [admin.put(args.tenant, kind, entry_id, body)
            for kind, entry_id, body in routing_entries(args.file, args.tenant, admin.view)]


def seed_cmd(admin: Admin, args) -> object:
    """Publish the routing files and the people file (idempotent: unchanged entries are skipped)."""
    from .seed import seed

    return seed(admin, args.routing_dir, args.people)


def sync_platforms_cmd(admin: Admin, args) -> object:
    """Read every WhatsApp template catalogue and LINE quota now and publish them (account-events)."""
    from connectors.platform_sync import run_once

    from .accounts import load_accounts
    from .settings import load_settings

    settings = load_settings()
    return run_once(settings, load_accounts(settings.accounts_file))   # one line per account


def _with_tenant(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--tenant", required=True)
    return parser


def _parser(settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard admin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="group", required=True, metavar="GROUP")
    seed = sub.add_parser("seed", help=seed_cmd.__doc__)
    seed.add_argument("--routing-dir", default=settings.routing_dir)
    seed.add_argument("--people", default=settings.people_file)
    seed.set_defaults(handler=seed_cmd)
    people = sub.add_parser("people", help="agents, supervisors and admins").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    _with_tenant(people.add_parser("list")).set_defaults(handler=people_cmd)
    for action in ("add", "set", "disable", "enable", "remove"):
        p = _with_tenant(people.add_parser(action))
        p.add_argument("id")
        if action in ("add", "set"):
            p.add_argument("--name")
            p.add_argument("--role", choices=["agent", "supervisor", "admin"])
            p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
            for flag in ("skill", "language", "queue", "capacity"):
                p.add_argument(f"--{flag}", action="append")
        p.set_defaults(handler=people_cmd)
    canned = sub.add_parser("canned", help="canned responses").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    _with_tenant(canned.add_parser("list")).add_argument("--queue")
    for action in ("add", "remove"):
        p = _with_tenant(canned.add_parser(action))
        p.add_argument("id")
        for flag in ("title", "text", "shortcut", "queue"):
            p.add_argument(f"--{flag}", required=action == "add" and flag in ("title", "text"))
    for p in canned.choices.values():
        p.set_defaults(handler=canned_cmd)
    tenant = sub.add_parser("tenant", help="a tenant's name, allowed system senders and sending policy")
    tenant.add_argument("action", choices=["set", "show"])
    tenant.add_argument("--tenant", required=True)
    tenant.add_argument("--name")
    tenant.add_argument("--system-sender", action="append")
    tenant.add_argument("--budget-daily", help="business-initiated spend per UTC day, price table currency (none: no budget)")
    tenant.add_argument("--budget-monthly", help="the same per UTC month (none: no budget)")
    tenant.add_argument("--quiet-hours", help="START-END in the recipient's zone, e.g. 21:00-08:00 (none: no quiet hours)")
    tenant.add_argument("--time-zone", help="IANA zone used when a recipient's is unknown (default UTC)")
    tenant.add_argument("--opt-out-keywords", action="append", metavar="LANG=WORD,WORD",
                        help="opt-out keywords of a language (repeat per language; replaces the defaults)")
    tenant.add_argument("--opt-in-keywords", action="append", metavar="LANG=WORD,WORD")
    tenant.add_argument("--language", action="append", help="a language its customers write (ISO 639-1; repeat: "
                        "the detector chooses among them, streams/conversations/language.py)")
    tenant.set_defaults(handler=tenant_cmd)
    routing = sub.add_parser("routing", help="a tenant's rules, queues and agents")
    routing.add_argument("action", choices=["set", "show"])
    routing.add_argument("file", nargs="?")
    routing.add_argument("--tenant", required=True)
    routing.set_defaults(handler=routing_cmd)
    sub.add_parser("sync-platforms", help=sync_platforms_cmd.__doc__).set_defaults(handler=sync_platforms_cmd)
    from . import admin_deployments, admin_entry_points, erase

    admin_deployments.add_commands(sub, _with_tenant)
    admin_entry_points.add_commands(sub, _with_tenant)
    erase.add_commands(sub, _with_tenant)
    return parser


def main(argv: list[str]) -> int:
    """Parse, run one admin command against the directory, print its result as JSON."""
    from .settings import load_settings

    settings = load_settings()
    args = _parser(settings).parse_args(argv)
    if not getattr(args, "needs_directory", True):   # erase-customer: ClickHouse and topics, not the directory
        print(json.dumps(args.handler(settings, args), indent=2, default=str))
        return 0
    admin = Admin(settings)
    try:
        result = args.handler(admin, args)
    finally:
        admin.close()
    print(json.dumps(result, indent=2, default=str) if not isinstance(result, bool)
          else ("changed" if result else "unchanged"))
    return 0
