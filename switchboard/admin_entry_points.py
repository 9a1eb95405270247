"""`switchboard admin entry-point …`: click-to-chat links with a campaign (docs/entry-points.md).

    switchboard admin entry-point create --tenant T ID --channel C --account A --campaign X
                                         [--text T] [--ad-id ID ...] [--description D] [--url U]
    switchboard admin entry-point set --tenant T ID [same options]     (changes only what is given)
    switchboard admin entry-point list|show|remove --tenant T [ID]
    switchboard admin entry-point link --tenant T ID [--url U]         (the link and snippet)

An entry point is directory kind `entry_point` (`channels.web.EntryPointBody`); its id is the `ref`
a Messenger link carries and the `entryPoint` the widget sends.
"""
from __future__ import annotations

import re

from .entry_links import link_of
from .errors import UserError

KIND = "entry_point"
ID = re.compile(r"[A-Za-z0-9_-]{1,64}")   # Messenger's ref allows more; this is safe in every link
CHANNELS = ("web", "messenger", "whatsapp", "line", "x")
FIELDS = {"channel": "channel", "account": "account_id", "campaign": "campaign", "text": "text",
          "ad_id": "ad_ids", "description": "description"}   # option → EntryPointBody field


def entry_point_cmd(admin, args) -> object:
    """entry-point create/set/list/show/remove/link."""
    tenant = args.tenant
    if args.action == "list":
        return admin.view.all(tenant, KIND)
    current = admin.view.entry_point(tenant, args.id)
    if args.action == "create" and not ID.fullmatch(args.id):
        raise UserError(f"{args.id!r} cannot be an entry point id (the link's ref): 1-64 of A-Z a-z 0-9 _ -")
    if args.action == "create" and current is not None:
        raise UserError(f"entry point {args.id!r} exists in {tenant!r}: use `switchboard admin entry-point set`")
    if args.action != "create" and current is None:
        raise UserError(f"no entry point {args.id!r} in tenant {tenant!r} "
                        f"(switchboard admin entry-point list --tenant {tenant})")
    if args.action == "remove":
        return admin.put(tenant, KIND, args.id, None)
    if args.action in ("show", "link"):
        made = link_of(args.id, current, channel_account(admin, tenant, current), site_url=args.url)
        return made if args.action == "link" else {**current, **made}
    return _write(admin, args, current)


def _write(admin, args, current: dict | None) -> dict:
    """create/set: the changed entry checked (account, ads, link) before it is written, with its link."""
    from .directory import validated

    tenant = args.tenant
    body = validated(KIND, {k: v for k, v in (current or {}).items() if k != "id"} | _changes(args))
    account = channel_account(admin, tenant, body)
    _ads_are_free(admin, tenant, args.id, body["ad_ids"])
    made = link_of(args.id, body, account, site_url=args.url)   # a link that cannot be made is refused
    admin.put(tenant, KIND, args.id, body)
    return {**body, "id": args.id, **made}


def _changes(args) -> dict:
    changes = {field: getattr(args, option) for option, field in FIELDS.items()}
    return {k: tuple(v) if k == "ad_ids" else v for k, v in changes.items() if v is not None}


def channel_account(admin, tenant: str, body: dict):
    """The channel account an entry point opens: the accounts file's (web: the directory's
    deployment, as data); UserError naming the fix when it is missing or of another tenant."""
    channel, account_id = body.get("channel"), body.get("account_id")
    if not channel or not account_id:
        raise UserError("an entry point needs --channel and --account")
    if channel == "web":
        found = admin.view.deployment(account_id)
        if found is None or found[0] != tenant:
            raise UserError(f"no web deployment {account_id!r} in tenant {tenant!r} "
                            f"(switchboard admin deployment list --tenant {tenant})")
        return found[1]
    account = _accounts().get(channel, account_id)
    if account is None or account.tenant_id != tenant:
        raise UserError(f"no {channel} account {account_id!r} for tenant {tenant!r} in the accounts file "
                        "(add it there, or set SWITCHBOARD_ACCOUNTS_FILE)")
    return account


def _accounts():
    from .accounts import load_accounts
    from .settings import load_settings

    return load_accounts(load_settings().accounts_file)


def _ads_are_free(admin, tenant: str, entry_id: str, ad_ids) -> None:
    for ad_id in ad_ids:
        other = admin.view.entry_point_of_ad(tenant, ad_id)
        if other is not None and other["id"] != entry_id:
            raise UserError(f"ad {ad_id} already means entry point {other['id']!r}: remove it there first")


def add_commands(sub, with_tenant) -> None:
    """Add this group's parsers to `switchboard admin`'s subparsers."""
    group = sub.add_parser("entry-point", help="click-to-chat links and snippets with a campaign").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    with_tenant(group.add_parser("list")).set_defaults(handler=entry_point_cmd)
    for action in ("create", "set", "show", "remove", "link"):
        p = with_tenant(group.add_parser(action))
        p.add_argument("id")
        if action in ("create", "set"):
            p.add_argument("--channel", choices=CHANNELS, required=action == "create")
            p.add_argument("--account", required=action == "create", help="the channel account (web: deployment id)")
            p.add_argument("--campaign", required=action == "create")
            p.add_argument("--text", help="prefilled message (WhatsApp, X)")
            p.add_argument("--ad-id", action="append", help="an ad id that means this entry point (repeat)")
            p.add_argument("--description")
        if action in ("create", "set", "show", "link"):
            p.add_argument("--url", help="web: the page to link to (default: the deployment's first origin)")
        p.set_defaults(handler=entry_point_cmd)
