"""`switchboard admin deployment …`: web messaging deployments (docs/channels/web.md "Deployments").

    switchboard admin deployment create --tenant T ID --origin URL [--origin URL ...] [options]
    switchboard admin deployment set --tenant T ID [options]          (changes only what is given)
    switchboard admin deployment show|disable|enable|remove --tenant T ID
    switchboard admin deployment list --tenant T

A deployment's id is global (the widget's snippet names only it), so `create` refuses an id any
tenant already has. `show` and `list` never print the HS256 secret.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import yaml

from channels.web import PRECHAT_FIELDS

from .errors import UserError

KIND = "deployment"
REDACTED = "****"


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UserError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _hours(path: str) -> dict:
    """The business hours of a YAML file: `{timezone, weekly: {mon: [["09:00", "17:00"]], …}}`."""
    try:
        data = yaml.safe_load(_read(path, "hours file"))
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not YAML: {str(exc).splitlines()[0]}") from None
    data = data.get("hours", data) if isinstance(data, dict) else data
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a mapping: timezone: Europe/Madrid, weekly: {{mon: [[\"09:00\", \"17:00\"]]}}")
    return data


def _secret() -> str:
    """The HS256 secret from stdin (one line), or prompted for on a terminal."""
    return sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("HS256 secret: ")


def _authenticated(args, current: dict) -> dict | None:
    """The `authenticated` part after the JWT options, or None when none was given."""
    auth = dict(current)
    if args.jwt_off:
        return {}
    if args.jwt_hs256_secret_stdin:
        auth |= {"enabled": True, "algorithm": "HS256", "secret": _secret(), "public_key": None}
    if args.jwt_rs256_public_key:
        auth |= {"enabled": True, "algorithm": "RS256", "secret": None,
                 "public_key": _read(args.jwt_rs256_public_key, "public key file")}
    for option, field in (("jwt_issuer", "issuer"), ("jwt_audience", "audience")):
        if getattr(args, option) is not None:
            auth[field] = getattr(args, option) or None
    if args.jwt_required:
        auth["required"] = True
    if auth.get("required") and not auth.get("enabled"):
        raise UserError("--jwt-required needs a key: --jwt-hs256-secret-stdin or --jwt-rs256-public-key FILE")
    return auth if auth != current else None


def _changes(args, current: dict) -> dict:
    """The body's fields the options give (nothing else), checked where the model cannot name the option."""
    if any("/" not in t for t in args.file_type or ()):
        raise UserError("--file-type takes a MIME type such as image/png")
    look = {k: v for k, v in {"name": args.name, "colour": args.colour, "greeting": args.greeting,
                              "language": args.language}.items() if v is not None}
    changes = {
        "allowed_origins": args.origin, "window_hours": args.window_hours, "session_hours": args.session_hours,
        "file_types": args.file_type, "queue": args.queue,
        "max_file_bytes": None if args.max_file_mb is None else int(args.max_file_mb * 1024 * 1024),
        "look": {**current.get("look", {}), **look} if look else None,
        "prechat": [] if args.no_prechat else args.prechat,
        "hours": _hours(args.hours_file) if args.hours_file else None,
        "authenticated": _authenticated(args, current.get("authenticated", {})),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if args.no_hours:
        changes["hours"] = None
    return changes


def redacted(deployment: dict) -> dict:
    """The deployment as shown: the HS256 secret replaced by ****."""
    auth = deployment.get("authenticated") or {}
    return deployment | {"authenticated": auth | {"secret": REDACTED}} if auth.get("secret") else deployment


def deployment_cmd(admin, args) -> object:
    """deployment create/set/show/list/disable/enable/remove."""
    tenant = args.tenant
    if args.action == "list":
        return [redacted(d) for d in admin.view.all(tenant, KIND)]
    current = admin.view.get(tenant, KIND, args.id)
    if args.action == "create":
        owner = admin.view.deployment(args.id)
        if owner is not None:
            raise UserError(f"deployment {args.id!r} exists in tenant {owner[0]!r} (ids are global): pick another "
                            f"id, or change it with `switchboard admin deployment set --tenant {owner[0]} {args.id}`")
        if not args.origin:
            raise UserError("a deployment needs the sites that embed it: --origin https://www.example.com")
    elif current is None:
        raise UserError(f"no deployment {args.id!r} in tenant {tenant!r} "
                        f"(switchboard admin deployment list --tenant {tenant})")
    if args.action == "show":
        return redacted(current)
    if args.action == "remove":
        return admin.put(tenant, KIND, args.id, None)
    body = {k: v for k, v in (current or {}).items() if k != "id"}
    if args.action in ("disable", "enable"):
        body["enabled"] = args.action == "enable"
    else:
        body |= _changes(args, body)
    return admin.put(tenant, KIND, args.id, body)


def _options(p) -> None:
    p.add_argument("--origin", action="append", help="a site that may open the widget: scheme://host[:port]")
    p.add_argument("--window-hours", type=float, help="threading window, at most 72")
    p.add_argument("--session-hours", type=float, help="how long a visitor's token resumes its session")
    p.add_argument("--file-type", action="append", help="a MIME type visitors may attach (repeat)")
    p.add_argument("--max-file-mb", type=float, help="largest attachment in MiB")
    p.add_argument("--queue", help="a routing queue to prefer")
    for flag in ("name", "colour", "greeting", "language"):
        p.add_argument(f"--{flag}", help=f"the widget's {flag} (look)")
    p.add_argument("--prechat", action="append", choices=PRECHAT_FIELDS, help="a pre-chat form field (repeat)")
    p.add_argument("--no-prechat", action="store_true", help="no pre-chat form")
    p.add_argument("--hours-file", help="business hours, YAML: {timezone, weekly: {mon: [[09:00, 17:00]]}}")
    p.add_argument("--no-hours", action="store_true", help="always open")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--jwt-hs256-secret-stdin", action="store_true", help="authenticated mode, HS256 secret on stdin")
    key.add_argument("--jwt-rs256-public-key", metavar="FILE", help="authenticated mode, the site's RS256 public key (PEM)")
    key.add_argument("--jwt-off", action="store_true", help="guest mode only")
    p.add_argument("--jwt-issuer", help="the `iss` a JWT must carry ('' for any)")
    p.add_argument("--jwt-audience", help="the `aud` a JWT must carry ('' for any)")
    p.add_argument("--jwt-required", action="store_true", help="visitors must be signed in by the site")


def add_commands(sub, with_tenant) -> None:
    """Add this group's parsers to `switchboard admin`'s subparsers."""
    group = sub.add_parser("deployment", help="web messaging deployments (widget installations)").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    with_tenant(group.add_parser("list")).set_defaults(handler=deployment_cmd)
    for action in ("create", "set", "show", "disable", "enable", "remove"):
        p = with_tenant(group.add_parser(action))
        p.add_argument("id")
        if action in ("create", "set"):
            _options(p)
        p.set_defaults(handler=deployment_cmd)
