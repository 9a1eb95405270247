"""Threading: a customer message continues the open conversation or starts a new one.

A message continues the conversation when its platform time is within the inactivity window of
the conversation's last activity (a message of either side: customer, agent, outbound; an agent
accepting or wrapping up is not activity); otherwise the old one
closes (reason inactivity, at last activity + window) and a new one starts. A late message, older
than the last activity, continues the conversation without moving its activity back. The window
is the account's `window_hours` (≤ 72 h) or the deployment's.

An edit or unsend (inbound-message v2 kinds) is not a new customer message: it is added to the
conversation it amends (`message_edited` / `message_unsent`) and nothing else moves.

A referral (an entry point's link or ad, `referrals.py`) gives the conversation its entry point and
campaign: the message's own, or a bare `referral` event's that waits on the thread for the next one.
"""
from __future__ import annotations

from channels.registry import rules
from streams.policy import reply_tokens, windows
from streams.records import Output, millis

from . import ids, language, referrals, responses, volunteered
from .outputs import conversation_event, identity_claim, message_refs, routing_request
from .state import Step, applied_once, new_conversation, push_history, summary, touch

# Platform events that change what we may send but are not messages (LINE follow/unfollow).
FOLLOW_KINDS = {"follow": False, "unfollow": True}
# The customer changing an earlier message (docs/channels/content.md, edit / unsend): the event type it adds.
AMENDMENTS = {"edit": "message_edited", "unsend": "message_unsent"}


def on_inbound(state: dict | None, msg: dict, *, partition: int, window_ms: int, ttl_ms: int,
               referral: dict | None = None, region: str | None = None, merge_typed: bool = False,
               detect: language.Detect = language.none) -> Step:
    """Apply one decoded inbound-message (see module docstring); redeliveries are duplicates.
    `referral` is the message's, resolved (`referrals.referral_of`); `region` the account's country
    (phone numbers typed without +), `merge_typed` the tenant's `merge_typed_details`, `detect` the
    tenant's language detection (`language.confident`)."""
    at = millis(msg["occurred_at"])
    ref = f"m:{msg['platform_message_id']}"
    state, duplicate = applied_once(state, msg["thread_key"], ref, at, partition=partition, ttl_ms=ttl_ms,
                                    customer_id=ids.customer_id(msg["tenant_id"], msg["channel"],
                                                                msg["sender"]["external_id"]))
    if duplicate:
        return Step(state, [], duplicate=True)
    reply_tokens.keep(state, msg)   # LINE: message, follow and postback events carry one
    if msg["kind"] in FOLLOW_KINDS:
        state["unfollowed"] = FOLLOW_KINDS[msg["kind"]]
        return Step(state, [])
    if msg["kind"] == referrals.KIND:   # not a message: nothing starts or routes; the next message's conversation carries it
        state["referral"] = referral or state.get("referral")
        return Step(state, [])
    if msg["kind"] in AMENDMENTS:
        return Step(state, _amend(state, msg, at))
    if (msg.get("attributes") or {}).get("system_type"):   # a platform notice, not the customer writing:
        return Step(state, _claims(state, msg, at, region, merge_typed))   # a changed number is claimed
    _customer_wrote(state, at)
    outputs = expire_if_inactive(state, at, window_ms)
    referral = referrals.take(state, referral, at, window_ms)
    started = state["conversation"] is None
    if started:
        outputs += start_conversation(state, msg["platform_message_id"], at, referral=referral, language=msg.get("language"),
                                      first_message_text=summary(msg.get("text"), msg.get("content", [])))
    detected = language.classify(state["conversation"], msg, detect)   # while unanswered, until confident
    outputs += _add_message(state, msg, at, ({} if started else referrals.attribute(state["conversation"], referral))
                            | detected)
    claims = _claims(state, msg, at, region, merge_typed)
    if started and claims:   # routing waits for identity's answer (customer-updates) or for identity_wait
        state["identity_waiting"] = [c.value["claim_id"] for c in claims]
        state["conversation"]["awaiting_agent"] = True
        return Step(state, outputs + claims)
    outputs += claims + _route_if_needed(state, at, ref, started, msg.get("text"))
    return Step(state, outputs)


def start_conversation(state: dict, first_ref: str, at: int, referral: dict | None = None, **fields) -> list[Output]:
    """Open a new conversation on the thread (see `state.new_conversation`): its started event,
    with the entry point and campaign of its referral (conversation-event v4)."""
    conv = state["conversation"] = new_conversation(state["thread_key"], first_ref, at, **fields)
    referrals.attribute(conv, referral)
    return [conversation_event(state, conv, "started", at, **referrals.fields_of(conv))]


def close_conversation(state: dict, reason: str, at: int) -> list[Output]:
    """Close the open conversation: closed event, and a `closed` routing request so the ACD lets go."""
    conv = state["conversation"]
    outputs = [conversation_event(state, conv, "closed", at, reason=reason),
               routing_request(state, conv, "closed", at, close_reason=reason)]
    state["previous"] = {"conversation_id": conv["conversation_id"], "sequence": conv["sequence"],
                         "closed_at": at}
    state["conversation"] = None
    return outputs


def _customer_wrote(state: dict, at: int) -> None:
    if state["last_inbound_at"] is None or at >= state["last_inbound_at"]:
        state["last_inbound_at"] = at
        state["outbound_since_inbound"] = state["outbound_after_window"] = 0


def expire_if_inactive(state: dict, at: int, window_ms: int) -> list[Output]:
    """Close the open conversation when `at` is past its inactivity window."""
    conv = state["conversation"]
    if conv is None or at - conv["last_activity_at"] <= window_ms:
        return []
    return close_conversation(state, "inactivity", conv["last_activity_at"] + window_ms)


def _add_message(state: dict, msg: dict, at: int, referral_fields: dict) -> list[Output]:
    """The message added; `referral_fields` when it gave an ongoing conversation its first referral (and
    the language its text settled, conversation-event v6)."""
    conv = state["conversation"]
    touch(conv, at)
    conv["language"] = conv["language"] or msg.get("language")
    push_history(conv, at, "inbound", summary(msg.get("text"), msg.get("content", [])))
    return [conversation_event(state, conv, "message_added", at, msg["event_id"],
                               direction="inbound", message_id=msg["event_id"], text=msg.get("text"),
                               content=msg.get("content", []), queue_id=conv.get("queue_id"),
                               response=responses.respond(conv, "customer", at, None),
                               **message_refs(msg), **referral_fields)]


def _amend(state: dict, msg: dict, at: int) -> list[Output]:
    """An edit or unsend, added to the open conversation (else the one just closed) and nothing more.

    It does not start, reopen or route a conversation, is not activity, and does not count as the
    customer writing: the platforms' reply windows are opened by the messages a customer sends
    (docs/channels/whatsapp.md and messenger.md, "Policy limits": 24 h from the customer's last
    message), and editing or deleting an old one sends nothing new, so `last_inbound_at` stays."""
    conv = state["conversation"] or state["previous"]
    if conv is None:
        return []   # nothing we know of to amend: the dedupe entry is all it leaves
    return [conversation_event(state, conv, AMENDMENTS[msg["kind"]], at, msg["event_id"],
                               direction="inbound", message_id=msg["event_id"], text=msg.get("text"),
                               content=msg.get("content", []), **message_refs(msg))]


def _route_if_needed(state: dict, at: int, ref: str, started: bool, text: str | None = None) -> list[Output]:
    """A new conversation, or an ongoing one with no agent and no request out, needs routing; one still
    waiting for an agent is requested again when this message moved its reply deadline (routing-request
    v4 `reply_deadline_at`, a new request id: the message's), so routing sees the new deadline; while
    nobody answered, a text goes as `message_added` (v5: keyword rules may re-skill it, `language.py`)."""
    conv = state["conversation"]
    if not started and conv["connected_agent_id"]:
        return []
    if state["identity_waiting"]:   # not requested yet: identity's answer sends it, with this message's history
        return []
    if not started and language.waiting_message(conv, text):
        return [routing_request(state, conv, "message_added", at, ref, message_text=text)]
    if not started and conv["awaiting_agent"]:
        moved = state["last_inbound_at"] == at and windows.window_open_until(state, rules(state["channel"]))
        return [routing_request(state, conv, "no_agent", at, ref)] if moved else []
    conv["awaiting_agent"] = True
    return [routing_request(state, conv, "new_conversation" if started else "no_agent", at, ref)]


def _claims(state: dict, msg: dict, at: int, region: str | None, merge_typed: bool) -> list[Output]:
    """A claim for each detail this thread has not claimed yet: the channel's fields, then its text's."""
    details = volunteered.platform_details(msg) + volunteered.text_details(msg.get("text"), region)
    outputs = []
    for kind, value, source, origin in details:
        if f"{kind}:{value}" not in state["claims"]:
            state["claims"].append(f"{kind}:{value}")
            outputs.append(identity_claim(state, kind, value, source, at, msg["sender"].get("display_name"),
                                          origin=origin, message_id=msg["event_id"],
                                          auto_merge=merge_typed and origin == "text"))
    return outputs
