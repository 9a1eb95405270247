"""Click-to-chat links and snippets of an entry point, per channel (docs/entry-points.md). Pure.

Each link opens a chat with one channel account; what comes back with the customer's first message
differs per platform: Messenger returns the link's `ref` (and an ad's id), WhatsApp the ad of a
click-to-WhatsApp ad (a wa.me link carries only prefilled text), the widget its `entryPoint`; LINE
and X give nothing back, so their links count clicks elsewhere (a URL shortener), not here.
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from .errors import UserError

WEB_PARAMETER = "switchboard_entry"   # docs/channels/web.md: the widget opens with this entry point


def link_of(entry_id: str, body: dict, account=None, *, site_url: str | None = None) -> dict:
    """{"link", "snippet"} of entry point `entry_id` (its EntryPointBody as data) for `account`, the
    channel account it opens (web: the deployment's first origin, or `site_url`, is the page)."""
    channel = body["channel"]
    if channel == "web":
        return _web(entry_id, site_url or _first_origin(account))
    link = LINKS[channel](entry_id, body, account)
    return {"link": link, "snippet": f'<a href="{escape(link)}">{escape(LABELS[channel])}</a>'}


def _messenger(entry_id: str, body: dict, account) -> str:
    # m.me/<page id>?ref=<ref>: Messenger hands `ref` back in the referral of the thread's webhook
    # (messaging_referrals, or the Get Started postback's referral for a new thread).
    return f"https://m.me/{quote(account.account_id, safe='')}?ref={quote(entry_id, safe='')}"


def _whatsapp(entry_id: str, body: dict, account) -> str:
    # wa.me/<number in international form, digits only>?text=<prefilled message>.
    number = "".join(ch for ch in (getattr(account, "display_phone_number", None) or "") if ch.isdigit())
    if not number:
        raise UserError(f"WhatsApp account {account.account_id} has no display_phone_number: "
                        "add it to the account in the accounts file")
    return f"https://wa.me/{number}" + (f"?{urlencode({'text': body['text']}, quote_via=quote)}" if body.get("text") else "")


def _line(entry_id: str, body: dict, account) -> str:
    # The add-friend URL of the Official Account's basic id (e.g. @123abcde).
    basic_id = getattr(account, "basic_id", None)
    if not basic_id:
        raise UserError(f"LINE account {account.account_id} has no basic_id: add it (e.g. basic_id: \"@123abcde\", "
                        "LINE Official Account Manager > Settings) to the account in the accounts file")
    return f"https://line.me/R/ti/p/{quote(basic_id, safe='@')}"


def _x(entry_id: str, body: dict, account) -> str:
    # The DM compose deep link to the account (its user id), with the prefilled text.
    query = {"recipient_id": account.account_id, **({"text": body["text"]} if body.get("text") else {})}
    return f"https://twitter.com/messages/compose?{urlencode(query, quote_via=quote)}"


def _web(entry_id: str, page: str) -> dict:
    scheme, netloc, path, query, fragment = urlsplit(page)
    if scheme not in ("http", "https") or not netloc:
        raise UserError(f"{page!r} is not a page URL: give --url https://www.example.com/page")
    query = "&".join(filter(None, (query, urlencode({WEB_PARAMETER: entry_id}))))
    return {"link": urlunsplit((scheme, netloc, path or "/", query, fragment)),
            "snippet": f'Switchboard("open", {{entryPoint: "{entry_id}"}})'}


def _first_origin(deployment) -> str:
    origins = (deployment or {}).get("allowed_origins") or ()
    if not origins:
        raise UserError("the deployment has no allowed origin to link to: give --url")
    return origins[0] + "/"


LINKS = {"messenger": _messenger, "whatsapp": _whatsapp, "line": _line, "x": _x}
LABELS = {"messenger": "Chat with us on Messenger", "whatsapp": "Chat with us on WhatsApp",
          "line": "Add us on LINE", "x": "Send us a DM on X"}
