"""The thread's policy view published to `policy-views` (key `thread:<thread key>`, compacted) when
it changes: after an inbound message, an outbound decision, an assignment, a consent or a window
closing. The thread state keeps a short hash of the last view published (conversation-state v4
`policy_view_hash`), so a message that changes nothing the agent may send publishes nothing.
"""
from __future__ import annotations

from functools import cache

from schemas import topic
from schemas.registry import UnknownSubject, load_schema
from streams.policy import view as policy
from streams.records import Output

SUBJECT = "policy-view"


@cache
def enabled() -> bool:
    """Whether the policy-view subject exists (its schema is H4's, issue 12): until then nothing is published."""
    try:
        load_schema(SUBJECT)
    except UnknownSubject:
        return False
    return True


def publish(state: dict | None, now: int, *, account, rules) -> list[Output]:
    """The thread's view as a policy-views record if it differs from the last one published (state updated)."""
    if state is None or not enabled():
        return []
    view = policy.thread_view(state, account, rules, now)
    digest = policy.digest(view)
    if digest == state.get("policy_view_hash"):
        return []
    state["policy_view_hash"] = digest
    value = policy.record(view, state["tenant_id"], now)
    return [Output(topic("policy-views").name, value["key"], SUBJECT, value)]
