"""The agent's routes: offers, conversations, history, replies, transfer, end, wrap-up, details."""
from __future__ import annotations

from aiohttp import web

from sink.history import history as customer_history
from switchboard.auth import require

from . import records
from .access import conversation
from .audit import audited
from .policy_routes import template_of
from .customers import customer as customer_of
from .app import body_of, fail, publish, query, workspace_of

ROUTES = web.RouteTableDef()
MAX_CONTENT_ITEMS = 10


def _queues(ws, tenant: str) -> dict[str, dict]:
    return dict((ws.directory.routing(tenant) or {}).get("queues") or {})


@ROUTES.get("/api/v1/offers")
async def offers(request: web.Request) -> web.Response:
    """My open offers, oldest first."""
    ws, p = workspace_of(request), require(request, "agent")
    found = [e.view() for e in ws.book.conversations(p.tenant_id, p.person_id, ws.now()) if e.state == "offered"]
    return web.json_response({"offers": found})


async def _offer_action(request: web.Request, kind: str) -> web.Response:
    ws, p = workspace_of(request), require(request, "agent")
    offer_id = request.match_info["offer_id"]
    entry = next((e for e in ws.book.conversations(p.tenant_id, p.person_id, ws.now())
                  if e.state == "offered" and e.fields["offer_id"] == offer_id), None)
    if entry is None:
        raise fail(404, f"no open offer {offer_id} for you (it may have timed out or been revoked)")
    await publish(request, [records.action(ws.codec, p.tenant_id, p.person_id, kind, ws.now(), offer_id=offer_id,
                                           conversation_id=entry.fields["conversation_id"])])
    return web.json_response({"offer_id": offer_id, "action": kind}, status=202)


@ROUTES.post("/api/v1/offers/{offer_id}/accept")
async def accept(request: web.Request) -> web.Response:
    """Accept an offer (routing assigns, or answers offer_revoked if it is too late)."""
    return await _offer_action(request, "accept")


@ROUTES.post("/api/v1/offers/{offer_id}/decline")
async def decline(request: web.Request) -> web.Response:
    """Decline an offer."""
    return await _offer_action(request, "decline")


@ROUTES.get("/api/v1/conversations")
async def conversations(request: web.Request) -> web.Response:
    """Mine: offered, connected, ended, wrap-up."""
    ws, p = workspace_of(request), require(request, "agent")
    return web.json_response({"conversations": [e.view() for e in ws.book.conversations(p.tenant_id, p.person_id,
                                                                                       ws.now())]})


@ROUTES.get("/api/v1/conversations/{id}")
async def details(request: web.Request) -> web.Response:
    """The conversation, its queue's wrap-up codes and mode, and the policy view."""
    principal, view, agent = await conversation(request)
    queue = _queues(workspace_of(request), principal.tenant_id).get(view.get("queue_id") or "", {})
    acw = queue.get("acw") or {}
    await audited(request, principal, "conversation_details", conversation_id=view["conversation_id"],
                  customer_id=view.get("customer_id"))
    return web.json_response({**view, "agent_id": agent, "wrapup_codes": view.get("wrapup_codes") or
                              list(queue.get("wrapup_codes") or []), "wrapup_mode": view.get("wrapup_mode") or
                              acw.get("mode")})


@ROUTES.get("/api/v1/conversations/{id}/history")
async def history(request: web.Request) -> web.Response:
    """The customer's whole history across channels and merged identities, newest first."""
    principal, view, _agent = await conversation(request)
    if not view.get("customer_id"):
        raise fail(404, "this conversation has no customer yet")
    try:
        limit = int(request.query.get("limit", "50"))
        page = await query(request, customer_history, principal.tenant_id, view["customer_id"],
                           request.query.get("before") or None, limit)
    except ValueError as exc:
        raise fail(400, str(exc)) from None
    who = await query(request, customer_of, principal.tenant_id, view["customer_id"])
    messages = await workspace_of(request).page_media.messages(page["messages"])
    await audited(request, principal, "customer_history", conversation_id=view["conversation_id"],
                  customer_id=view["customer_id"], items=len(messages))
    return web.json_response({**page, "messages": messages, "customer": who})


@ROUTES.get("/api/v1/conversations/{id}/messages")
async def messages(request: web.Request) -> web.Response:
    """The messages pushed to the agent in this conversation (a reloaded page), oldest first, media signed."""
    principal, view, agent = await conversation(request)
    ws = workspace_of(request)
    entry = ws.book.entry(principal.tenant_id, agent, view["conversation_id"], ws.now()) if agent else None
    found = await ws.page_media.messages(list(entry.messages) if entry else [])
    await audited(request, principal, "conversation_messages", conversation_id=view["conversation_id"],
                  customer_id=view.get("customer_id"), items=len(found))
    return web.json_response({"conversation_id": view["conversation_id"], "messages": found})


@ROUTES.post("/api/v1/conversations/{id}/messages")
async def send(request: web.Request) -> web.Response:
    """`{content, client_id, template?}` -> outbound-messages (the policy checks the sender again)."""
    principal, view, _agent = await conversation(request, connected=True, supervisor=False)
    ws, body = workspace_of(request), await body_of(request)
    template = template_of(body["template"]) if body.get("template") is not None else None
    content, client_id = body.get("content", [] if template else None), body.get("client_id")
    if not isinstance(content, list) or not (0 if template else 1) <= len(content) <= MAX_CONTENT_ITEMS \
            or not isinstance(client_id, str) or not client_id or any(not isinstance(c, dict) for c in content):
        raise fail(400, f"send {{content: [1..{MAX_CONTENT_ITEMS} ContentItem] or template: {{name, language, "
                        "parameters}}, client_id: <your unique id>}")
    try:
        outbound_id, record = records.reply(ws.codec, principal, view, content, client_id, ws.now(), template)
    except (ValueError, TypeError) as exc:
        raise fail(400, f"not a ContentItem list: {exc}") from None
    await publish(request, [record])
    return web.json_response({"outbound_id": outbound_id}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/typing")
async def typing(request: web.Request) -> web.Response:
    """Typing to the customer: the web widget shows it (webmessaging-events); other channels do not."""
    principal, view, _agent = await conversation(request, connected=True, supervisor=False)
    if view.get("channel") != "web":
        return web.json_response({"typing": True, "forwarded": False}, status=202)
    ws = workspace_of(request)
    await publish(request, [records.guest_typing(ws.codec, principal, view, ws.now())])
    return web.json_response({"typing": True, "forwarded": True}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/transfer")
async def transfer(request: web.Request) -> web.Response:
    """`{queue_id | agent_id, mode, note}` -> agent-actions transfer (a supervisor forces it)."""
    principal, view, agent = await conversation(request, connected=True)
    ws, body = workspace_of(request), await body_of(request)
    queue_id, agent_id, mode = body.get("queue_id"), body.get("agent_id"), body.get("mode", "blind")
    if bool(queue_id) == bool(agent_id) or mode not in ("blind", "consult"):
        raise fail(400, "send {queue_id or agent_id (one of them), mode: blind|consult, note}")
    if queue_id and queue_id not in _queues(ws, principal.tenant_id):
        raise fail(400, f"no queue {queue_id}: GET /api/v1/queues lists the targets")
    target = ws.directory.person(principal.tenant_id, agent_id) if agent_id else None
    if agent_id and (target is None or target.get("role") != "agent" or agent_id == agent):
        raise fail(400, f"{agent_id} is not another agent of your tenant: GET /api/v1/agents lists the targets")
    actor = principal.person_id if agent != principal.person_id else None
    await publish(request, [records.action(ws.codec, principal.tenant_id, agent, "transfer", ws.now(), actor=actor,
                                           conversation_id=view["conversation_id"], target_queue_id=queue_id,
                                           target_agent_id=agent_id, transfer_mode=mode,
                                           note=str(body.get("note") or "") or None)])
    return web.json_response({"conversation_id": view["conversation_id"], "action": "transfer"}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/end")
async def end(request: web.Request) -> web.Response:
    """End the interaction (then wrap-up); a supervisor ends it for the connected agent."""
    principal, view, agent = await conversation(request, connected=True)
    ws = workspace_of(request)
    actor = principal.person_id if agent != principal.person_id else None
    await publish(request, [records.action(ws.codec, principal.tenant_id, agent, "end", ws.now(), actor=actor,
                                           conversation_id=view["conversation_id"])])
    return web.json_response({"conversation_id": view["conversation_id"], "action": "end"}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/wrapup")
async def wrapup(request: web.Request) -> web.Response:
    """`{code, note}` with a code from the queue's list -> agent-actions wrap_up."""
    principal, view, _agent = await conversation(request, supervisor=False)
    ws, body = workspace_of(request), await body_of(request)
    codes = view.get("wrapup_codes") or list(_queues(ws, principal.tenant_id).get(view.get("queue_id") or "", {})
                                            .get("wrapup_codes") or [])
    if body.get("code") not in codes:
        raise fail(400, f"pick a wrap-up code of the queue: {', '.join(codes) or 'none configured'}")
    if view["state"] == "offered":
        raise fail(409, "accept the offer first: there is nothing to wrap up")
    await publish(request, [records.action(ws.codec, principal.tenant_id, principal.person_id, "wrap_up", ws.now(),
                                           conversation_id=view["conversation_id"], wrapup_code=body["code"],
                                           note=str(body.get("note") or "") or None)])
    return web.json_response({"conversation_id": view["conversation_id"], "action": "wrap_up"}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/customer")
async def customer(request: web.Request) -> web.Response:
    """`{email?, phone?}` the customer told the agent -> identity-claims (`agent_entered`)."""
    principal, view, _agent = await conversation(request, connected=True, supervisor=False)
    ws, body = workspace_of(request), await body_of(request)
    details = {kind: records.normalized(kind, str(body[kind])) for kind in ("email", "phone") if body.get(kind)}
    if not details or None in details.values():
        raise fail(400, "send {email and/or phone}: a valid address, a phone number with its country code")
    await publish(request, [records.claim(ws.codec, principal, view, kind, value, ws.now())
                            for kind, value in details.items()])
    return web.json_response({"claimed": details}, status=202)


@ROUTES.post("/api/v1/conversations/{id}/customer/suggestions")
async def answer_suggestion(request: web.Request) -> web.Response:
    """`{decision: confirm|reject, customer_id, detail_type, detail_value}`: the connected agent's answer to a
    merge suggestion shown with the customer (`customer.suggestions`) -> an identity claim (v2 action)."""
    principal, view, _agent = await conversation(request, connected=True, supervisor=False)
    ws, body = workspace_of(request), await body_of(request)
    if body.get("decision") not in ("confirm", "reject"):
        raise fail(400, "send {decision: confirm or reject, customer_id, detail_type, detail_value} of a suggestion")
    who = await query(request, customer_of, principal.tenant_id, view["customer_id"])
    found = next((s for s in who["suggestions"] if (s["customer_id"], s["detail_type"], s["detail_value"]) ==
                  (body.get("customer_id"), body.get("detail_type"), body.get("detail_value"))), None)
    if found is None or not found["candidates"]:
        raise fail(404, "no open merge suggestion like that for this conversation's customer (answered already?)")
    entry = {"thread_key": found["thread_key"] or view["thread_key"], "claimant": found["customer_id"]}
    await publish(request, [records.claim(ws.codec, principal, entry, found["detail_type"], found["detail_value"],
                                          ws.now(), action=body["decision"], other_customer_id=found["candidates"][0])])
    return web.json_response({"decision": body["decision"], "customer_id": found["customer_id"],
                              "other_customer_id": found["candidates"][0]}, status=202)


@ROUTES.get("/api/v1/canned-responses")
async def canned(request: web.Request) -> web.Response:
    """The tenant's canned responses for a queue (and those for every queue)."""
    ws, p = workspace_of(request), require(request, "agent")
    return web.json_response({"canned_responses": ws.directory.canned(p.tenant_id, request.query.get("queue"))})


@ROUTES.get("/api/v1/queues")
async def queues(request: web.Request) -> web.Response:
    """Transfer targets: the tenant's queues."""
    ws, p = workspace_of(request), require(request, "agent")
    return web.json_response({"queues": [{"id": q, "wrapup_codes": list(c.get("wrapup_codes") or [])}
                                         for q, c in sorted(_queues(ws, p.tenant_id).items())]})


@ROUTES.get("/api/v1/agents")
async def agents(request: web.Request) -> web.Response:
    """Transfer targets: the tenant's agents with the presence routing last told."""
    ws, p = workspace_of(request), require(request, "agent")
    return web.json_response({"agents": [
        {"id": a["id"], "name": a.get("name"), "queues": list(a.get("queues", ())),
         "presence": ws.book.page(p.tenant_id, a["id"]).presence}
        for a in ws.directory.people(p.tenant_id, "agent") if not a.get("disabled")]})


def media_upload(media) -> web.RouteDef:
    """`POST /api/v1/media`: an agent's upload into the edge's media store (connectors.media)."""
    from connectors.media.routes import accept_upload

    async def upload(request: web.Request) -> web.Response:
        """Store an uploaded file, type- and size-checked, and give the page a signed URL."""
        require(request, "agent")
        return await accept_upload(request, media.store, media.signer, media.url_seconds, media.max_bytes)

    return web.post("/api/v1/media", upload)
