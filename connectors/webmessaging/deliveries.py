"""`POST /webmessaging/v1/deliveries`: an agent's message from `switchboard deliver`, for one visitor.

Verify (HMAC-SHA256 of the exact body under the delivery key, constant time), find the session
(any replica knows every session: 404 `session_unknown` when it is gone — deliver marks the
message failed), publish one `web-guest-event` to `webmessaging-events` and answer 200 only after
the broker acknowledged: the replica holding the socket pushes it from there. A resend publishes
the same event id; the widget drops the repeat by `messageId` (connectors/web.py).
"""
from __future__ import annotations

import json
import logging

from aiohttp import web

from connectors.normalize import ITEM_FIELDS, event_id, item
from connectors.publisher import PublishError, Record
from connectors.signatures import matches
from connectors.web import SIGNATURE_HEADER, delivery_signature

from .app import webmessaging_of
from .hub import EVENTS

log = logging.getLogger("switchboard.webmessaging")
ROUTES = web.RouteTableDef()


@ROUTES.post("/webmessaging/v1/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    """One outbound message → webmessaging-events; 401 bad signature, 404 unknown session, 503 no ack."""
    wm, body = webmessaging_of(request), await request.read()
    if not matches(request.headers.get(SIGNATURE_HEADER), [wm.delivery_key()], body, delivery_signature):
        log.warning("delivery with a bad or missing signature (%d bytes) from %s", len(body), request.remote)
        return web.json_response({"error": "bad signature", "code": "bad_signature"}, status=401)
    try:
        delivery = json.loads(body)
        deployment_id, session_id = delivery["deploymentId"], delivery["sessionId"]
        if not all(isinstance(delivery.get(k), str) for k in ("outboundId", "tenantId", "threadKey")):
            raise KeyError("outboundId, tenantId and threadKey")
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "not a delivery body", "code": "bad_request"}, status=400)
    session = wm.sessions.by_id(deployment_id, session_id)
    if session is None or session["tenant_id"] != delivery.get("tenantId"):
        return web.json_response({"error": f"no session {session_id} on deployment {deployment_id}: it was closed "
                                           "or has expired", "code": "session_unknown"}, status=404)
    event = guest_message(delivery, _agent_name(wm, delivery), wm.now())
    try:
        record = Record(EVENTS.name, delivery["threadKey"], wm.codec.encode("web-guest-event", event))
        await wm.publisher.publish([record])
    except PublishError:
        return web.json_response({"error": "the broker did not acknowledge: try again", "code": "unavailable"},
                                 status=503)
    return web.json_response({"messageId": delivery["outboundId"], "eventId": event["event_id"]})


def guest_message(delivery: dict, sender_name: str | None, now_ms: int) -> dict:
    """The web-guest-event of a delivery (deterministic id: a resend is the same event)."""
    content = [item(i.get("type", "unsupported"), **{k: v for k, v in i.items() if k in ITEM_FIELDS})
               for i in delivery.get("content") or []]
    texts = [i["text"] for i in content if i["type"] == "text" and i.get("text")]
    return {"event_id": event_id("wg", delivery["deploymentId"], delivery["outboundId"]),
            "tenant_id": delivery["tenantId"], "deployment_id": delivery["deploymentId"],
            "session_id": delivery["sessionId"], "type": "message", "message_id": delivery["outboundId"],
            "conversation_id": delivery.get("conversationId"), "sender_name": sender_name,
            "text": "\n".join(texts) or None, "content": content, "occurred_at": delivery.get("createdAt") or now_ms}


def _agent_name(wm, delivery: dict) -> str | None:
    person = wm.directory.person(delivery["tenantId"], delivery["agentId"]) if delivery.get("agentId") else None
    return (person or {}).get("name")
