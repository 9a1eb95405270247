"""Response times, worked out where a conversation's messages are put in order (docs/metrics.md).

A conversation's messages from customers and agents (system messages are no one's) fall into runs
of one side. A message that begins a run after the other side's is a **response**: its time since
the first message of the run it answers. An agent's response is theirs; a customer's is attributed
to the agent who began the run it answers (the agent of that participation, however late the
reply). A response is the first of its conversation for its side, and the first of its
participation for its side and agent, or not.

The open conversation keeps what the next message needs (conversation-state v7: the run's side,
first message time and agent; the responders seen), and the `message_added` event carries the
response (conversation-event v7), which the sink writes to `response_facts` (DDL 0063), so the report
views read responses by time instead of each conversation's history. `sink.metrics.responses_of`
is the same definition in SQL, over message_timeline: the generator and the backfill of DDL 0064
use it, and a test holds the two to each other.
"""
from __future__ import annotations


def respond(conv: dict, side: str, at: int, agent_id: str | None) -> dict | None:
    """The response a message of `side` ("customer" or "agent", by `agent_id`) at `at` is, if it
    begins a run after the other side's (conversation-event v7 `response`); the run kept in `conv`."""
    previous, started, run_agent = conv.get("run_side"), conv.get("run_started_at"), conv.get("run_agent_id")
    if previous == side:
        return None
    conv["run_side"], conv["run_started_at"], conv["run_agent_id"] = side, at, agent_id
    if previous is None or started is None:
        return None
    agent = agent_id if side == "agent" else run_agent
    seen = conv.get("responders") or []
    keys = (side, f"{side}:{agent or ''}")
    conv["responders"] = seen + [k for k in keys if k not in seen]
    return {"responder": side, "agent_id": agent, "answers_from": started,
            "first_of_conversation": keys[0] not in seen, "first_of_participation": keys[1] not in seen}
