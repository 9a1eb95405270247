"""Assignments (from routing) into the thread state: connected agent, last agent, agent events.

`queued` (assignment v4, no agent) says the conversation entered a queue and waits there: its
queue, which the messages meanwhile carry, and nothing else.

`connected` makes the agent the conversation's connected and last agent (and the customer's last
agent on any queue), and the queue they took it from the conversation's queue, which every later
`message_added` carries (`queue_after`); `transferred` frees the conversation while routing finds
the next agent (a transfer to a queue makes that the conversation's queue); `wrapup_started` (the agent ended it and wraps up) frees it at once — the policy no longer approves
that agent's messages; `ended` (routing sends it once the wrap-up is over) closes the
*interaction*: `interaction_ended` (reason `agent_ended`), which facts tell apart from the
conversation's `closed` (reason `inactivity`). The conversation itself stays open: a customer
message within the window continues it and asks routing again, preferring the last agent.
An assignment is not conversation activity: the threading window runs from the last message of
either side (the seed's rule, and what the web widget tells its visitor), not from when an agent
accepted or wrapped up.
"""
from __future__ import annotations

from streams.records import Output, millis

from .outputs import conversation_event
from .state import Step, applied_once


def on_assignment(state: dict | None, assignment: dict, *, partition: int, ttl_ms: int) -> Step:
    """Apply one decoded assignment (v2); a redelivered assignment id is a duplicate."""
    at = millis(assignment["occurred_at"])
    ref = f"a:{assignment['assignment_id']}"
    state, duplicate = applied_once(state, assignment["thread_key"], ref, at, partition=partition, ttl_ms=ttl_ms)
    if duplicate:
        return Step(state, [], duplicate=True)
    if assignment["type"] == "connected":
        state["last_agent_id"] = assignment["agent_id"]
        state["identity_waiting"] = []   # an agent has it: nothing waits for identity's answer any more
    conv, is_open = _target(state, assignment["conversation_id"])
    if conv is None:
        return Step(state, [])  # a conversation this thread no longer knows: only the last agent counts
    agent = assignment["agent_id"]
    # The interaction ends with its last agent's wrap-up, unless it was handed on (transferred: awaiting
    # the next agent, or another agent connected meanwhile).
    ended_by_agent = is_open and assignment["type"] == "ended" and conv.get("last_agent_id") == agent \
        and conv.get("connected_agent_id") in (None, agent) and not conv.get("awaiting_agent")
    # Whether this agent still spoke until now; a closed conversation keeps no connected agent, and
    # there `wrapup_started` says nothing and the late `ended` says it all.
    speaking = conv.get("connected_agent_id") == agent if is_open else assignment["type"] != "wrapup_started"
    if is_open:
        _update_open(conv, assignment)
    outputs = _events(state, conv, assignment, at, speaking)
    if ended_by_agent:
        outputs.append(conversation_event(state, conv, "interaction_ended", at, f"{assignment['assignment_id']}:end",
                                          reason="agent_ended", agent_id=assignment["agent_id"],
                                          queue_id=assignment.get("queue_id"),
                                          wrapup_code=assignment.get("wrapup_code")))
    return Step(state, outputs)


def _target(state: dict, conversation_id: str) -> tuple[dict | None, bool]:
    """The open conversation, or the last closed one (late end / wrap-up), the assignment is about."""
    for conv, is_open in ((state["conversation"], True), (state["previous"], False)):
        if conv is not None and conv["conversation_id"] == conversation_id:
            return conv, is_open
    return None, False


def _update_open(conv: dict, assignment: dict) -> None:
    agent, kind = assignment["agent_id"], assignment["type"]
    conv["queue_id"] = queue_after(conv.get("queue_id"), assignment)
    if kind == "connected":
        conv |= {"connected_agent_id": agent, "last_agent_id": agent, "awaiting_agent": False}
    elif kind in ("transferred", "wrapup_started", "ended") and conv["connected_agent_id"] == agent:
        # transferred: routing re-queues it itself; ended: the next customer message asks again
        conv |= {"connected_agent_id": None, "awaiting_agent": kind == "transferred"}


def queue_after(queue_id: str | None, assignment: dict) -> str | None:
    """The conversation's queue after `assignment` (conversation-state v6): the queue it entered
    (`queued`, assignment v4: waiting there), the queue its agent took it from, the target queue of a
    transfer (`queue:<id>`; a transfer to an agent keeps the queue), else unchanged — assignments are
    the only routing output this processor reads."""
    target = assignment.get("transfer_target") or ""
    if assignment["type"] in ("queued", "connected"):
        return assignment.get("queue_id") or queue_id
    if assignment["type"] == "transferred" and target.startswith("queue:"):
        return target.removeprefix("queue:")
    return queue_id


def _events(state: dict, conv: dict, assignment: dict, at: int, speaking: bool) -> list[Output]:
    """`speaking`: the agent was connected until this assignment (an `ended` after `wrapup_started`
    has already said `agent_ended`)."""
    ref, kind = assignment["assignment_id"], assignment["type"]
    who = {"agent_id": assignment["agent_id"], "queue_id": assignment.get("queue_id")}
    if kind == "connected":
        return [conversation_event(state, conv, "agent_assigned", at, ref, **who)]
    if kind not in ("transferred", "wrapup_started", "ended"):
        return []
    reason = assignment.get("reason") or ("transfer" if kind == "transferred" else "ended")
    outputs = [conversation_event(state, conv, "agent_ended", at, ref, reason=reason, **who)] \
        if kind == "transferred" or speaking else []
    if assignment.get("wrapup_code"):
        outputs.append(conversation_event(state, conv, "wrapped_up", at, f"{ref}:wrapup",
                                          wrapup_code=assignment["wrapup_code"], **who))
    return outputs
