"""The WhatsApp simulator's account side: each WABA's template catalogue served as the Graph
template API, and the control calls that change a template's status or the number's quality and
messaging limit — each of which sends the webhook Meta sends for it (message_template_status_update,
phone_number_quality_update) to the edge, as customer messages are sent."""
from __future__ import annotations

import base64

from aiohttp import web

from .base import Reply
from .meta import access_token
from .whatsapp_rules import seed_catalogue

PAGE_SIZE = 25  # Graph's default page of edges
LADDER = ("TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
PAUSE_NOTE = "Your WhatsApp message template has been paused for 3 hours because it had issues."


def catalogue(platform, waba_id: str) -> list[dict]:
    """The templates of one WABA (seeded on first use), mutable: control calls change them."""
    return platform.state.scratch["whatsapp_templates"].setdefault(waba_id, seed_catalogue())


def waba_of(account) -> str:
    """The account's WABA id (its own id when none is configured)."""
    return account.waba_id or account.account_id


async def list_templates(platform, request: web.Request, raw: bytes) -> Reply:
    """GET /{waba-id}/message_templates?limit=&after= : {"data": [...], "paging": {"cursors", "next"}}
    (developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates)."""
    account = platform.account_by_token(access_token(request))
    waba = request.match_info["waba_id"]
    if account is None:
        return platform.bad_token()
    if waba_of(account) != waba:
        return platform.bad_param(f"Unsupported get request. Object with ID '{waba}' does not exist, cannot be "
                                  "loaded due to missing permissions, or does not support this operation", subcode=33)
    templates = catalogue(platform, waba)
    start, limit = _cursor(request.query.get("after")), max(1, min(int(request.query.get("limit", PAGE_SIZE)), 100))
    page = templates[start:start + limit]
    paging = {"cursors": {"before": _encode(start), "after": _encode(start + len(page))}}
    if start + limit < len(templates):
        paging["next"] = str(request.url.update_query({"limit": limit, "after": _encode(start + len(page))}))
    return Reply(200, {"data": page, "paging": paging})


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(f"MAZDZD{index}".encode()).decode().rstrip("=")


def _cursor(after: str | None) -> int:
    if not after:
        return 0
    try:
        return int(base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode().removeprefix("MAZDZD"))
    except ValueError:
        raise web.HTTPBadRequest(text="(#100) Invalid cursor") from None


def control_routes(platform) -> list[web.RouteDef]:
    """POST /_sim/whatsapp/templates and /_sim/whatsapp/quality."""
    async def template_status(request: web.Request) -> web.Response:
        body = await request.json()
        account = _account(platform, body)
        found = [t for t in catalogue(platform, waba_of(account)) if t["name"] == body.get("name")
                 and t["language"] == body.get("language", "en_US")]
        if not found:
            raise web.HTTPNotFound(text=f"no template {body.get('name')!r} in {body.get('language', 'en_US')}")
        template, status = found[0], str(body["status"]).upper()
        template["status"] = status
        value = {"event": status, "message_template_id": int(template["id"]), "message_template_name": template["name"],
                 "message_template_language": template["language"], "reason": body.get("reason", "NONE"),
                 "message_template_category": template["category"]}
        if status == "PAUSED":
            value["other_info"] = {"title": "FIRST_PAUSE", "description": PAUSE_NOTE}
        if status == "DISABLED":
            value["disable_info"] = {"disable_date": str(int(platform.state.clock.now()))}
        return await _send(platform, account, "message_template_status_update", value)

    async def quality(request: web.Request) -> web.Response:
        body = await request.json()
        account = _account(platform, body)
        now = _number(platform, account)
        tier, rating = body.get("tier", now["tier"]), body.get("quality_rating", now["quality_rating"])
        value = {"display_phone_number": account.display_phone_number or account.account_id,
                 "event": body.get("event") or _event(now, tier, rating)}
        if tier != now["tier"]:
            value["old_limit"] = now["tier"]
        value |= {"current_limit": tier, "max_daily_conversations_per_business": tier}
        now.update(tier=tier, quality_rating=rating)
        return await _send(platform, account, "phone_number_quality_update", value)

    return [web.post("/_sim/whatsapp/templates", template_status), web.post("/_sim/whatsapp/quality", quality)]


def _number(platform, account) -> dict:
    """The number's quality rating and messaging-limit tier as the platform sees them."""
    return platform.state.scratch["whatsapp_numbers"].setdefault(
        account.account_id, {"tier": account.messaging_limit_tier, "quality_rating": "GREEN"})


def _event(now: dict, tier: str, rating: str) -> str:
    """UPGRADE / DOWNGRADE for a tier change, else FLAGGED when the rating falls to red, UNFLAGGED back."""
    if tier != now["tier"]:
        rank = {t: i for i, t in enumerate(LADDER)}
        return "UPGRADE" if rank.get(tier, 0) > rank.get(now["tier"], 0) else "DOWNGRADE"
    return "FLAGGED" if rating == "RED" else "UNFLAGGED"


def _account(platform, body: dict):
    account = platform.sim.account("whatsapp", body.get("account_id"))
    if account is None:
        raise web.HTTPNotFound(text=f"no whatsapp account {body.get('account_id') or ''}")
    return account


async def _send(platform, account, field: str, value: dict) -> web.Response:
    """The account-level webhook to the edge (entry.id = the WABA); answers its status and payload."""
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": waba_of(account), "time": int(platform.state.clock.now()), "changes": [{"value": value, "field": field}]}]}
    status = await platform.deliver(platform.webhook(account, payload, kind="account"))
    return web.json_response({"status": status, "payload": payload})
