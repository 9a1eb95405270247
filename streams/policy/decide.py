"""May this outbound message go out now? One pure function over the thread state and the rules.

First who may speak on the thread (issue 10, docs/workspace.md): the sender must be the agent
connected to the thread's open conversation or a system sender the tenant allows, the recipient
must be the thread's customer, and a named conversation must be the thread's open one — so a
message that passes one thread's window can never reach another customer.

Then the rules, each channel's declaration (channels/<channel>.py, docs/channels/verified-facts.md):
an element it lacks replaced by its declared fallback (`channels.fallbacks.substitute`, once, here),
what it can carry (`channels.refusals.refusal`, the same check delivery makes) and its window rule
(Messenger's 24 h / HUMAN_AGENT / 24 + 1, WhatsApp's 24 h customer service window, X's 24 h and
5 replies per inbound DM, LINE's unfollow). Every channel: never an unsolicited message (nothing
inbound ever on the thread), except an approved template where the channel has templates (WhatsApp),
and then only with the customer's opt-in; an opted-out customer gets nothing outside the open window
(`streams.policy.consent`). Messenger's HUMAN_AGENT tag is for a human's reply: never a system sender's.
Last the repeat rules where the channel declares them (X: `streams.policy.spam`), on the content as sent.
docs/channel-policies.md lists every rule with its source, setting and default.

What the thread stage approves goes to `outbound-approved`, or to the account stage
(`outbound-checks`, streams/accounts) when an account-wide rule still governs it
(`needs_account_stage`).
"""
from __future__ import annotations

from dataclasses import replace

from channels.fallbacks import Replaced, substitute
from channels.refusals import refusal
from channels.spec import ChannelSpec
from channels.verdicts import Approved, Rejected

from . import consent, spam

__all__ = ["Approved", "Rejected", "authorize", "decide", "needs_account_stage"]

def decide(outbound: dict, thread: dict | None, account, rules: ChannelSpec, now: int,
           system_senders: frozenset[str] = frozenset()) -> Approved | Rejected:
    """The policy's verdict on `outbound` at `now` (epoch millis) for the thread's state."""
    if account is None:
        return Rejected("account.unknown", f"no enabled {outbound['channel']} account {outbound['channel_account_id']}")
    replaced = authorize(outbound, thread, system_senders) or substitute(rules, outbound.get("content") or [])
    if not isinstance(replaced, Replaced):
        return Rejected(*replaced)
    sent = {**outbound, "content": replaced.content}
    refused = refusal(rules, sent)
    if refused:
        return Rejected(*refused)
    verdict = _window(sent, thread, account, rules, now)
    human_only = isinstance(verdict, Approved) and verdict.messaging_tag == "HUMAN_AGENT"
    if human_only and outbound.get("agent_id") in system_senders:
        return Rejected("window.messenger", "the HUMAN_AGENT tag is for a human agent's reply: a system sender "
                        f"({outbound['agent_id']}) may write only within 24 hours of the customer's last message")
    if isinstance(verdict, Approved):
        verdict = spam.repeat(rules, account, thread, replaced.content, now) or verdict
    if isinstance(verdict, Approved) and replaced.applied:
        return replace(verdict, fallbacks=tuple(replaced.applied), content=replaced.content)
    return verdict


def _window(outbound: dict, thread: dict | None, account, rules: ChannelSpec, now: int) -> Approved | Rejected:
    templates = bool(rules.content.get("template"))
    if templates and _is_template(outbound):   # templates are WhatsApp's way to (re)open a conversation
        return consent.check(outbound, thread, rules, now) or Approved()
    last_inbound = thread and thread["last_inbound_at"]
    if last_inbound is None:
        return Rejected("window.unsolicited", "the customer has never written on this thread: "
                        "we may not start the conversation" + (" (use an approved template)" if templates else ""))
    # WhatsApp's messaging-limit tiers, the template catalogue, LINE's quota and X's daily cap are
    # account-wide: the account stage (streams/accounts) checks them after this one.
    verdict = rules.window_rule(outbound, thread, account, rules.window, now - last_inbound)
    if isinstance(verdict, Approved):
        return consent.check(outbound, thread, rules, now) or verdict
    return verdict


def needs_account_stage(outbound: dict, rules: ChannelSpec) -> bool:
    """Whether an approved outbound (as sent: reply token taken or not) goes to the account stage: the
    channel's declaration says (`ChannelSpec.account_stage`: WhatsApp every message, LINE a push, X
    every DM)."""
    return bool(rules.account_stage and rules.account_stage(outbound))


def authorize(outbound: dict, thread: dict | None, system_senders: frozenset[str]) -> tuple[str, str] | None:
    """(rule, reason) when the sender, recipient or conversation does not belong to the thread."""
    conv = thread and thread["conversation"]
    connected = conv and conv["connected_agent_id"]
    sender = outbound.get("agent_id")
    if sender not in system_senders and (sender is None or sender != connected):
        who = f"agent {connected} is" if connected else "no agent is"
        return "sender.not_connected", f"{sender or 'an anonymous sender'} may not write here: {who} connected " \
                                       "to this thread's conversation"
    customer = outbound["thread_key"].split(":", 3)[3]
    if outbound["recipient_id"] != customer:
        return "recipient.not_thread_customer", f"recipient {outbound['recipient_id']} is not this thread's " \
                                                f"customer ({customer})"
    wanted = outbound.get("conversation_id")
    if wanted and wanted != (conv and conv["conversation_id"]):
        open_ = f"the open one is {conv['conversation_id']}" if conv else "the thread has no open conversation"
        return "conversation.mismatch", f"conversation {wanted} is not this thread's ({open_})"
    return None


def _is_template(outbound: dict) -> bool:
    return outbound["kind"] == "template" and outbound.get("template") is not None
