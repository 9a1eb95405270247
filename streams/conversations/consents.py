"""Consents on the thread: `consents` records (the API's, or our own from a keyword) applied to the
thread state, and the opt-out / opt-in keywords a customer writes.

A text that is exactly one of the tenant's keywords (any of its languages; case, accents and the
spaces and punctuation around it ignored: "Stop!", "arrêt", " BAJA ") records the opt-out (or opt-in)
on the thread at once, source `keyword`, and emits the fact as a `consents` record whose id is
derived from the message; its id is remembered as applied (`c:<consent id>`), so reading our own
record back changes nothing. A consent may come before any message: it creates the thread state.
The tenant's lists are the directory's (TenantBody `opt_out_keywords` / `opt_in_keywords`,
language -> words), else `DEFAULT_OPT_OUT` / `DEFAULT_OPT_IN`.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable

from schemas import topic
from streams.policy import consent
from streams.records import Output, millis

from . import ids
from .state import Step, applied_once, remember

DEFAULT_OPT_OUT = {"en": ["STOP", "UNSUBSCRIBE"], "es": ["BAJA"], "fr": ["ARRET", "ARRÊT"], "de": ["STOPP"],
                   "pt": ["PARAR"]}
DEFAULT_OPT_IN = {"en": ["START"]}
KEYWORD_KINDS = {"message"}   # inbound kinds whose text may be a keyword (not edits, postbacks, reactions)

Keywords = Callable[[str], dict[str, frozenset[str]]]   # tenant -> {"opt_out": folded words, "opt_in": ...}


def fold(text: str) -> str:
    """Case and accents folded, surrounding spaces and punctuation dropped ("  Arrêt! " -> "arret")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return letters.strip("".join(c for c in set(letters) if _edge(c)))


def _edge(c: str) -> bool:
    return c.isspace() or unicodedata.category(c)[0] in "PSZ"


def folded(lists: dict[str, list[str]] | None, default: dict[str, list[str]]) -> frozenset[str]:
    """Every word of a language -> words mapping, folded."""
    return frozenset(fold(w) for words in (lists if lists is not None else default).values() for w in words)


def defaults(tenant: str) -> dict[str, frozenset[str]]:  # noqa: ARG001
    """The default keywords (no directory)."""
    return {"opt_out": folded(None, DEFAULT_OPT_OUT), "opt_in": folded(None, DEFAULT_OPT_IN)}


def lookup(directory) -> Keywords:
    """The tenant's keywords from the directory's tenant entry (defaults for what it does not set)."""
    def keywords(tenant: str) -> dict[str, frozenset[str]]:
        body = directory.tenant(tenant) or {}
        return {"opt_out": folded(body.get("opt_out_keywords"), DEFAULT_OPT_OUT),
                "opt_in": folded(body.get("opt_in_keywords"), DEFAULT_OPT_IN)}
    return keywords


def keyword_action(msg: dict, keywords: dict[str, frozenset[str]]) -> str | None:
    """`opt_out` / `opt_in` when the inbound message's text is exactly one of the keywords."""
    text = msg.get("text")
    if msg.get("kind", "message") not in KEYWORD_KINDS or not text:
        return None
    word = fold(text)
    return "opt_out" if word in keywords["opt_out"] else "opt_in" if word in keywords["opt_in"] else None


def on_consent(state: dict | None, value: dict, *, partition: int, ttl_ms: int) -> Step:
    """Apply one decoded consent record; a consent id already applied is a duplicate."""
    at, ref = millis(value["occurred_at"]), f"c:{value['consent_id']}"
    state, duplicate = applied_once(state, value["thread_key"], ref, at, partition=partition, ttl_ms=ttl_ms)
    if duplicate:
        return Step(state, [], duplicate=True)
    consent.apply(state, value["action"], at, value["source"])
    return Step(state, [])


def from_keyword(state: dict, msg: dict, action: str, ttl_ms: int) -> list[Output]:
    """Record the keyword's consent on the (working) state now and emit it as a consents record."""
    at = millis(msg["occurred_at"])
    value = {"consent_id": ids.make_id("consent", state["thread_key"], action, msg["event_id"]),
             "tenant_id": state["tenant_id"], "thread_key": state["thread_key"], "channel": state["channel"],
             "channel_account_id": state["channel_account_id"], "recipient_id": state["external_id"],
             "action": action, "source": "keyword", "occurred_at": at, "text": msg.get("text"), "recorded_by": None}
    remember(state, f"c:{value['consent_id']}", at, ttl_ms)
    consent.apply(state, action, at, "keyword")
    return [Output(topic("consents").name, state["thread_key"], "consent", value)]
