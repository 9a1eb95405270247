"""What Messenger and WhatsApp share: Meta's webhook handshake, an app's batches split by owner,
Graph API errors and referrals."""
from __future__ import annotations

import hmac
import json
import re

from .base import ParseError, SendResult
from .compose import body_json, http_error
from .normalize import load_json

# A Meta app's callback receives every product's webhooks; `object` names the product
# (developers.facebook.com/docs/graph-api/webhooks/getting-started, "Event Notifications").
OBJECTS = {"page": "messenger", "whatsapp_business_account": "whatsapp"}

# Graph error codes worth retrying with backoff (Meta's error-code references):
# 1/2 unknown/temporary, 4/17/32/613/80006/80007 rate limits (app, user, page, call, Messenger,
# WhatsApp), 130429 WhatsApp throughput, 131048 spam rate limit, 131056 pair rate limit,
# 133016 registration rate limit. Everything else is permanent for this message (e.g. 10/2018278
# outside the window, 131047 re-engagement, 551 person unavailable, 190 token, 100 parameter).
RETRIABLE_CODES = {1, 2, 4, 17, 32, 613, 80006, 80007, 130429, 131048, 131056, 133016}


def handshake(account, query) -> tuple[int, str, str] | None:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours, else 403."""
    if "hub.mode" not in query:
        return None
    token = query.get("hub.verify_token", "").encode()
    expected = account.verify_token.get_secret_value().encode()
    if query.get("hub.mode") == "subscribe" and hmac.compare_digest(token, expected):
        return 200, query.get("hub.challenge", ""), "text/plain"
    return 403, "verify token mismatch", "text/plain"


def channel_of(body: bytes) -> str:
    """The channel of a body posted to a Meta app's callback, by its `object` (ParseError for another)."""
    data = load_json(body)
    kind = data.get("object") if isinstance(data, dict) else None
    if kind not in OBJECTS:
        raise ParseError(f"object {kind!r} is not one Switchboard serves (known: {', '.join(OBJECTS)})")
    return OBJECTS[kind]


def by_owner(data: dict, body: bytes, pieces: list[tuple[tuple, dict]]) -> list[tuple[str | None, str | None, bytes, int]]:
    """`(owner, entry)` pieces grouped per owner, each group one body of the same object with that
    owner's entries in their order: `(account id, WABA id, body, entries)`. A body for one owner
    stays the bytes that came (its signature and its dead letter are the platform's own)."""
    groups: dict[tuple, list[dict]] = {}
    for owner, entry in pieces:
        groups.setdefault(owner, []).append(entry)
    if len(groups) == 1:
        owner, entries = next(iter(groups.items()))
        return [(*owner, body, len(entries))]
    return [(*owner, json.dumps({**data, "entry": entries}, ensure_ascii=False).encode(), len(entries))
            for owner, entries in groups.items()]


def graph_error(status: int, headers, body: bytes) -> SendResult:
    """A Graph API error answer as a SendResult with Meta's code (`code` or `code/subcode`)."""
    error = body_json(body).get("error") or {}
    code, sub = error.get("code"), error.get("error_subcode")
    if code is None:
        return http_error(status, headers, str(status), f"HTTP {status} without a Graph error body")
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    reason = details or re.sub(r"^\(#\d+\)\s*", "", error.get("message") or "") or f"Graph error {code}"
    retriable = status >= 500 or status == 429 or code in RETRIABLE_CODES
    return http_error(status, headers, f"{code}/{sub}" if sub else str(code), reason, retriable)


def bearer(account) -> dict[str, str]:
    """The Authorization header for the account's access token."""
    return {"Authorization": f"Bearer {account.access_token.get_secret_value()}"}


def referral(*, ref=None, source=None, source_id=None, ctwa_clid=None, headline=None) -> dict:
    """A platform referral as inbound-message attributes, under the names every channel uses
    (docs/entry-points.md): the conversation processor reads `referral_ref` (an entry point id) and
    `referral_source_id` (an ad id, resolved when `referral_source` is `ad`)."""
    return {"referral_ref": ref, "referral_source": source, "referral_source_id": source_id,
            "referral_ctwa_clid": ctwa_clid, "referral_headline": headline}
