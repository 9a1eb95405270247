"""The agent's feed from the conversation processor: `agent-notifications` records, keyed by agent id.

For the agent connected to a conversation (docs/workspace.md, the push socket): each message
added (inbound and approved outbound, with its content and, inbound, what it refers to: the quote,
forwarded marks, kind `edit` / `unsend` with the message it changes), delivery/read receipts of the thread's
outbound messages, the policy view after each change; and to the sender of a refused outbound,
`rejected` with the rule and reason. Ids derive from what each is about, so a replay repeats them.
"""
from __future__ import annotations

import datetime as dt

from schemas import topic
from streams.policy.view import policy_view
from streams.records import Output, millis

NOTIFICATIONS = topic("agent-notifications").name


def agent_event(state: dict, agent_id: str, event_type: str, ref: str, at: int, conv: dict | None = None, /,
                **fields) -> Output:
    """One agent-event (v4) about the thread (and its conversation, if any)."""
    value = {"event_id": f"ae:{agent_id}:{event_type}:{ref}", "tenant_id": state["tenant_id"], "agent_id": agent_id,
             "type": event_type, "occurred_at": at, "conversation_id": conv and conv["conversation_id"],
             "customer_id": state["customer_id"], "channel": state["channel"],
             "thread_key": state["thread_key"], "channel_account_id": state["channel_account_id"], **fields}
    return Output(NOTIFICATIONS, agent_id, "agent-event", value)


def connected_agent(state: dict) -> str | None:
    """The agent connected to the thread's open conversation."""
    conv = state["conversation"]
    return conv and conv["connected_agent_id"]


def message(state: dict, at: int, *, message_id: str, direction: str, text: str | None,
            content: list[dict], **refs) -> list[Output]:
    """The message just added (or an edit / unsend: `refs`, see `outputs.message_refs`), for the
    connected agent (none: nobody to tell)."""
    agent = connected_agent(state)
    if agent is None:
        return []
    return [agent_event(state, agent, "message", message_id, at, state["conversation"], message_id=message_id,
                        direction=direction, text=text, content=content, **refs)]


def policy(state: dict, at: int, ref: str, *, account, rules, agent: str | None = None) -> list[Output]:
    """The policy view after a change, for the connected agent (or `agent`)."""
    agent = agent or connected_agent(state)
    if agent is None:
        return []
    view = policy_view(state, account, rules, at)
    return [agent_event(state, agent, "policy", ref, at, state["conversation"], policy=view)]


def rejected(state: dict, outbound: dict, rule: str, reason: str, at: int) -> list[Output]:
    """An outbound refused, told to the agent it was sent as (a forged one alerts the agent named)."""
    agent = outbound.get("agent_id")
    if not agent:
        return []
    return [agent_event(state, agent, "rejected", outbound["outbound_id"], at, state["conversation"],
                        message_id=outbound["outbound_id"], rule=rule, reason=reason)]


def receipt(state: dict, status: dict) -> list[Output]:
    """A delivery status of one of the thread's outbound messages, for the connected agent.

    Only outbounds this thread decided (`o:<id>` still in its seen ids), and Messenger's watermark
    receipts (no outbound id: every message before the watermark). A `failed` one says why (`rule` =
    the error code: a platform's, or the account stage's rule such as `tier.limit`, and its reason); a
    `held` one (delivery-status v3: the account stage paces it) says "held: <reason>"."""
    agent, outbound_id = connected_agent(state), status.get("outbound_id")
    if agent is None or (outbound_id and not any(e["id"] == f"o:{outbound_id}" for e in state["seen"])):
        return []
    at = millis(status["watermark"] if status.get("watermark") and not outbound_id else status["occurred_at"])
    return [agent_event(state, agent, "receipt", status["event_id"], at, state["conversation"],
                        message_id=outbound_id, status=status["status"], **_why(status))]


def _why(status: dict) -> dict:
    """The rule and reason a failed or held receipt shows the agent."""
    if status["status"] == "held":
        until = status.get("hold_until")
        expected = "" if until is None else \
            f" (expected to go by {dt.datetime.fromtimestamp(millis(until) / 1000, dt.UTC):%Y-%m-%d %H:%M} UTC)"
        return {"rule": "held", "reason": f"held: {status.get('hold_reason') or 'account limits'}{expected}"}
    if status["status"] == "failed":
        return {"rule": status.get("error_code"), "reason": status.get("error_reason")}
    return {}
