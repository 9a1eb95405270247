"""Content a channel cannot carry: the one check (rule, reason) and the outbound-rejection record.

The outbound policy (streams) checks before approving a message and delivery (connectors) again
before any platform call; both use `refusal` and write `rejection`, so the same message is refused
under the same rule name on either side.
"""
from __future__ import annotations

from .spec import ChannelSpec


def refusal(spec: ChannelSpec, outbound: dict) -> tuple[str, str] | None:
    """The first thing in an outbound message the channel cannot carry, as (rule, reason); None if it can.

    Rules: `capability.template` (a template without its body, or a channel without templates),
    `capability.<type>` (an element the channel cannot carry), `limit.text_length` (text too long).
    """
    if outbound.get("kind") == "template":
        if outbound.get("template") is None:
            return "capability.template", "a template message needs its template (name, language)"
        if not spec.content.get("template"):
            return "capability.template", f"{spec.channel} has no message templates"
    for element in outbound.get("content") or []:
        found = _element_refusal(spec, element["type"], element.get("text"))
        if found:
            return found
    return None


def _element_refusal(spec: ChannelSpec, kind: str, text: str | None) -> tuple[str, str] | None:
    allowed = spec.content.get(kind, False)
    if allowed is False:
        return f"capability.{kind}", f"{spec.channel} cannot carry {kind} content"
    if kind == "text" and allowed is not True and len(text or "") > allowed:
        return "limit.text_length", f"{spec.channel} text is limited to {allowed} characters (this one has {len(text or '')})"
    return None


def rejection(outbound: dict, rule: str, reason: str, now_ms: int, conversation_id: str | None = None) -> dict:
    """An outbound-rejection record: `outbound` refused under `rule` at `now_ms`, before any platform call.

    `conversation_id` is the thread's conversation when the message does not name one (the policy knows it).
    """
    return {"outbound_id": outbound["outbound_id"], "tenant_id": outbound["tenant_id"],
            "conversation_id": outbound.get("conversation_id") or conversation_id,
            "thread_key": outbound["thread_key"], "channel": outbound["channel"],
            "channel_account_id": outbound["channel_account_id"], "agent_id": outbound.get("agent_id"),
            "rejected_at": now_ms, "rule": rule, "reason": reason, "content": outbound.get("content") or []}
