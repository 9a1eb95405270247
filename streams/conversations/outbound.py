"""An outbound message through the policy: approved (and added to the conversation) or rejected.

`streams.policy.decide` gives the verdict over the thread state; this applies it to that state:
the approved message carries the content as sent (declared fallbacks applied, attribute `fallbacks`
naming them), the thread remembers it for the repeat rules (`streams.policy.spam`), and a reply takes
the thread's valid reply token, once (`streams.policy.reply_tokens`).

The approved message (outbound-message v3) says what the thread knows for the account stage:
`business_initiated` (no open free-reply window: `streams.policy.consent`), `window_open_until`,
`free_until` (an ad referral's free entry point window) and `recipient_time_zone` (unknown here: None).
It goes to `outbound-approved`, or, when an account-wide rule still governs it
(`decide.needs_account_stage`: WhatsApp, a LINE push, X), to `outbound-checks` keyed by the account's
portfolio key (with `portfolio_key` set); the conversation and the agent's feed are told the same.
"""
from __future__ import annotations

from channels.fallbacks import ATTRIBUTE as FALLBACKS
from channels.refusals import rejection
from channels.spec import ChannelSpec
from schemas import topic
from streams.policy import reply_tokens, spam, windows
from streams.policy.decide import Approved, Rejected, decide, needs_account_stage
from streams.records import Output

from . import responses
from .outputs import conversation_event
from .state import Step, new_thread, push_history, remember, seen, summary, touch, working_copy
from .threading import expire_if_inactive, start_conversation


def on_outbound(state: dict | None, outbound: dict, *, account, rules: ChannelSpec, now: int,
                partition: int, window_ms: int, ttl_ms: int, system_senders: frozenset[str] = frozenset()) -> Step:
    """Decide on one decoded outbound-message at `now`; an already decided outbound id is a duplicate."""
    ref = f"o:{outbound['outbound_id']}"
    if state is not None and seen(state, ref):
        return Step(state, [], duplicate=True)
    verdict = decide(outbound, state, account, rules, now, system_senders)
    state = working_copy(state) or new_thread(outbound["thread_key"], partition, now)
    remember(state, ref, now, ttl_ms)
    if isinstance(verdict, Rejected):
        return Step(state, [_rejection(state, outbound, verdict, now)])
    initiated = not windows.window_open(state, rules, now) and not verdict.after_window
    outbound = _as_sent(state, outbound, verdict, now)
    spam.remember(rules, account, state, outbound["content"], now)
    outputs, approved = _approve(state, outbound | {"business_initiated": initiated}, verdict, now, window_ms)
    return Step(state, outputs + [_approved(state, approved, account, rules)])


APPROVED, CHECKS = topic("outbound-approved").name, topic("outbound-checks").name


def _approved(state: dict, approved: dict, account, rules: ChannelSpec) -> Output:
    """The approved record with what the thread knows (v3), to the account stage if it needs one."""
    approved |= {"window_open_until": windows.window_open_until(state, rules),
                 "free_until": windows.free_until(state, rules), "recipient_time_zone": None}
    if needs_account_stage(approved, rules):
        key = account.portfolio_key
        return Output(CHECKS, key, "outbound-message", approved | {"portfolio_key": key})
    return Output(APPROVED, state["thread_key"], "outbound-message", approved)


def _as_sent(state: dict, outbound: dict, verdict: Approved, now: int) -> dict:
    """The outbound as it goes out: replaced content, the fallbacks named, the reply token if valid."""
    sent = dict(outbound)
    if verdict.fallbacks:
        attributes = {**(outbound.get("attributes") or {}), FALLBACKS: ",".join(verdict.fallbacks)}
        sent |= {"content": verdict.content, "attributes": attributes}
    token = reply_tokens.take(state, outbound["outbound_id"], now) if outbound["kind"] == "reply" else None
    return (sent | {"reply_token": token}) if token else sent


def _approve(state: dict, outbound: dict, verdict: Approved, now: int, window_ms: int) -> tuple[list[Output], dict]:
    """Add the approved message to the conversation (a new one if none is open): (events, approved value)."""
    outputs = expire_if_inactive(state, now, window_ms)
    if state["conversation"] is None:   # business-initiated (a WhatsApp template): a new conversation
        outputs += start_conversation(state, f"o:{outbound['outbound_id']}", now,
                                      last_agent_id=outbound.get("agent_id"))
    conv = state["conversation"]
    touch(conv, now)
    text = " ".join(i["text"] for i in outbound["content"] if i.get("text")) or None
    push_history(conv, now, "outbound", summary(text, outbound["content"]))
    state["outbound_since_inbound"] += 1
    conv["answered"] |= outbound.get("agent_id") is not None and outbound.get("agent_id") == conv["connected_agent_id"]
    state["outbound_after_window"] += int(verdict.after_window)
    approved = {**outbound, "conversation_id": conv["conversation_id"],
                "messaging_tag": verdict.messaging_tag or outbound.get("messaging_tag")}
    return outputs + [
        conversation_event(state, conv, "message_added", now, outbound["outbound_id"], direction="outbound",
                           message_id=outbound["outbound_id"], text=text, content=outbound["content"],
                           agent_id=outbound.get("agent_id"), queue_id=conv.get("queue_id"),
                           response=responses.respond(conv, "agent", now, outbound["agent_id"])
                           if outbound.get("agent_id") else None)], approved


def _rejection(state: dict, outbound: dict, verdict: Rejected, now: int) -> Output:
    conv = state["conversation"]
    value = rejection(outbound, verdict.rule, verdict.reason, now, conv and conv["conversation_id"])
    return Output(topic("outbound-rejected").name, outbound["thread_key"], "outbound-rejection", value)
