"""What may be sent now (the policy view), business-initiated templates, and consents (issue 12).

`GET /conversations/{id}/policy` answers from the edge's copy of `policy-views` (policy.py).
`POST /notifications` writes an outbound-messages `template` record sent by a system sender: it
goes through the same two policy stages, pacing and delivery as an agent's reply, and its outcome
comes back as any message's does (outbound-rejected, delivery-status; `GET /notifications/{id}`
reads the facts). `POST /consents` writes a `consents` record the conversation processor applies.
"""
from __future__ import annotations

import re

from aiohttp import web

from connectors.normalize import thread_key as thread_key_of
from switchboard.auth import require

from . import outcomes, records
from .access import conversation
from .app import body_of, fail, publish, query, workspace_of
from .policy import answer

ROUTES = web.RouteTableDef()
CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
CONSENT_ACTIONS = ("opt_in", "opt_out")


@ROUTES.get("/api/v1/conversations/{id}/policy")
async def policy(request: web.Request) -> web.Response:
    """The thread's policy view merged with its portfolio's: window, templates, limits, holds."""
    ws, principal = workspace_of(request), require(request, "agent")
    cid = request.match_info["id"]
    thread = ws.policies.thread(principal.tenant_id, cid)
    if principal.role == "agent" or thread is None:
        await conversation(request)   # an agent: only their own (403); unknown in the tenant: 404
    if thread is None:
        raise fail(404, f"no policy view of conversation {cid} yet: the conversation processor writes one "
                        "with the conversation's first message")
    account = ws.policies.account(principal.tenant_id, thread.get("portfolio_key"))
    return web.json_response(answer(thread, account, ws.now()))


@ROUTES.post("/api/v1/notifications")
async def notify(request: web.Request) -> web.Response:
    """`{channel, channel_account_id, recipient_id, template, sender?, outbound_id?}` -> outbound-messages."""
    ws, principal = workspace_of(request), require(request, "supervisor")
    body = await body_of(request)
    channel, account_id, recipient = _recipient(body)
    template = template_of(body.get("template"))
    tenant = principal.tenant_id
    sender = _sender(ws, tenant, body.get("sender"))
    key = _thread_key(ws, tenant, channel, account_id, recipient)
    outbound_id = records.stable_id("api-out", tenant, _client_id(body, "outbound_id")) if body.get("outbound_id") \
        else records.stable_id("api-out", tenant, principal.person_id, str(ws.now()), key, template["name"])
    try:
        record = records.notification(ws.codec, tenant, outbound_id, key, channel, account_id, recipient, sender,
                                      template, principal.person_id, ws.now())
    except (ValueError, TypeError) as exc:
        raise fail(400, f"not a notification this channel takes: {exc}") from None
    await publish(request, [record])
    return web.json_response({"outbound_id": outbound_id, "thread_key": key, "sender": sender}, status=202)


@ROUTES.get("/api/v1/notifications/{outbound_id}")
async def notification(request: web.Request) -> web.Response:
    """What became of a notification: approved, rejected (rule, reason), held, sent, delivered, failed."""
    principal = require(request, "supervisor")
    found = await query(request, outcomes.outcome, principal.tenant_id, request.match_info["outbound_id"])
    if found is None:
        raise fail(404, "no such notification in your tenant yet (the facts arrive within seconds)")
    return web.json_response(found)


@ROUTES.post("/api/v1/consents")
async def consent(request: web.Request) -> web.Response:
    """`{channel, channel_account_id, recipient_id, action: opt_in|opt_out, source, consent_id?}` -> consents."""
    ws, principal = workspace_of(request), require(request, "supervisor")
    body = await body_of(request)
    channel, account_id, recipient = _recipient(body)
    action, source = body.get("action"), body.get("source") or "api"
    if action not in CONSENT_ACTIONS or not isinstance(source, str) or not CLIENT_ID.match(source):
        raise fail(400, "send action: opt_in|opt_out and source (api, web_form, import…)")
    tenant, now = principal.tenant_id, ws.now()
    key = _thread_key(ws, tenant, channel, account_id, recipient)
    client = _client_id(body, "consent_id") if body.get("consent_id") else str(now)
    consent_id = records.stable_id("consent", key, action, client)
    try:
        record = records.consent(ws.codec, tenant, consent_id, key, channel, account_id, recipient, action, source,
                                 principal.person_id, now)
    except (ValueError, TypeError) as exc:
        raise fail(400, f"not a consent: {exc}") from None
    await publish(request, [record])
    return web.json_response({"consent_id": consent_id, "thread_key": key, "action": action}, status=202)


def _recipient(body: dict) -> tuple[str, str, str]:
    fields = [body.get(name) for name in ("channel", "channel_account_id", "recipient_id")]
    if not all(isinstance(f, str) and f and ":" not in f for f in fields):
        raise fail(400, "send channel, channel_account_id and recipient_id (the customer's id on the platform)")
    return fields[0], fields[1], fields[2]


def template_of(template) -> dict:
    """`{name, language, parameters}` of an approved template as sent (400 otherwise)."""
    if not isinstance(template, dict) or not all(isinstance(template.get(k), str) and template[k]
                                                 for k in ("name", "language")):
        raise fail(400, "send template: {name, language, parameters: [text…]} of an approved template")
    parameters = template.get("parameters") or []
    if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
        raise fail(400, "template.parameters is a list of strings, the body parameters in order")
    return {"name": template["name"], "language": template["language"], "parameters": parameters}


def _sender(ws, tenant: str, asked) -> str:
    """The system sender: the one asked for if the tenant allows it, else the tenant's first."""
    allowed = list((ws.directory.tenant(tenant) or {}).get("system_senders") or ())
    if not allowed:
        raise fail(400, "your tenant has no system sender: add one (PUT /api/v1/admin/tenant system_senders)")
    if asked is None:
        return allowed[0]
    if asked not in allowed:
        raise fail(400, f"sender {asked!r} is not a system sender of your tenant: one of {', '.join(allowed)}")
    return asked


def _thread_key(ws, tenant: str, channel: str, account_id: str, recipient: str) -> str:
    """The thread key the edge gives this customer's messages (connectors.normalize.thread_key)."""
    account = ws.accounts.get(channel, account_id) if ws.accounts is not None else None
    if ws.accounts is not None and (account is None or account.tenant_id != tenant):
        raise fail(404, f"no {channel} account {account_id} in your tenant")
    return thread_key_of(account, recipient) if account else f"{tenant}:{channel}:{account_id}:{recipient}"


def _client_id(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise fail(400, f"{name} is 1-100 letters, digits or . _ : -")
    return value
