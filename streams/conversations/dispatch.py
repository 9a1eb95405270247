"""Which pure function applies a record of each source topic, with what subject and clock, and what
the connected agent is told about it (`feed`)."""
from __future__ import annotations

from channels.registry import rules
from schemas import topic
from streams.records import millis

from . import feed
from .assignments import on_assignment
from .config import ThreadingConfig
from .expiry import on_timeout
from .outbound import on_outbound
from .state import Step
from .outputs import message_refs
from .referrals import KIND as REFERRAL, referral_of
from .threading import AMENDMENTS, FOLLOW_KINDS, on_inbound

REJECTED, APPROVED = topic("outbound-rejected").name, topic("outbound-approved").name


def _inbound(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    step = on_inbound(state, value, partition=partition, window_ms=config.window_of(value["thread_key"]),
                      ttl_ms=config.ttl_ms, referral=referral_of(value, config.entry_point))
    if step.duplicate or value["kind"] == REFERRAL:   # a bare referral tells the agent nothing
        return step
    at, told = millis(value["occurred_at"]), []
    if value["kind"] not in FOLLOW_KINDS:
        told = feed.message(step.state, at, message_id=value["event_id"], direction="inbound",
                            text=value.get("text"), content=value.get("content", []), **message_refs(value))
    if value["kind"] in AMENDMENTS:
        return step._replace(outputs=step.outputs + told)   # an edit or unsend changes no window
    told += feed.policy(step.state, at, value["event_id"], account=config.account_of(value["thread_key"]),
                        rules=rules(value["channel"]))
    return step._replace(outputs=step.outputs + told)


def _assignment(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    step = on_assignment(state, value, partition=partition, ttl_ms=config.ttl_ms)
    if step.duplicate or value["type"] != "connected" or feed.connected_agent(step.state) != value["agent_id"]:
        return step
    told = feed.policy(step.state, millis(value["occurred_at"]), value["assignment_id"],
                       account=config.account_of(value["thread_key"]), rules=rules(step.state["channel"]))
    return step._replace(outputs=step.outputs + told)


def _outbound(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    # The policy's clock is the request's record time: a replay decides exactly as before.
    account, spec = config.account_of(value["thread_key"]), rules(value["channel"])
    step = on_outbound(state, value, account=account, rules=spec, now=record_ms, partition=partition,
                       window_ms=config.window_of(value["thread_key"]), ttl_ms=config.ttl_ms,
                       system_senders=config.system_senders(value["tenant_id"]))
    if step.duplicate:
        return step
    refusal = next((o.value for o in step.outputs if o.topic == REJECTED), None)
    if refusal:
        told = feed.rejected(step.state, value, refusal["rule"], refusal["reason"], record_ms)
    else:   # the agent sees what the customer gets: declared fallbacks applied
        sent = next(o.value for o in step.outputs if o.topic == APPROVED)
        told = feed.message(step.state, record_ms, message_id=value["outbound_id"], direction="outbound",
                            text=" ".join(i["text"] for i in sent["content"] if i.get("text")) or None,
                            content=sent["content"])
        told += feed.policy(step.state, record_ms, value["outbound_id"], account=account, rules=spec)
    return step._replace(outputs=step.outputs + told)


def _timeout(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    return on_timeout(state, value, window_ms=config.window_of(value["thread_key"]), ttl_ms=config.ttl_ms,
                      grace_ms=config.grace_ms)


def _receipt(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    if state is None:
        return Step(None, [], duplicate=True)   # a receipt for a thread this processor never saw
    return Step(state, feed.receipt(state, value))


# Source topic -> the pure function of its records. All are keyed by thread key and co-partitioned
# (same partition count, same partitioner), so one agent serializes every change of a thread.
HANDLERS = {"inbound-messages": _inbound, "assignments": _assignment, "outbound-messages": _outbound,
            "conversation-timeouts": _timeout, "delivery-status": _receipt}
# Source topic -> the Avro subject of its values.
SUBJECTS = {topic(name).name: topic(name).value for name in HANDLERS}


def apply(source: str, state: dict | None, value: dict, *, partition: int, record_ms: int,
          config: ThreadingConfig) -> Step:
    """Apply one decoded record of `source`; `record_ms` is the record's Kafka timestamp."""
    return HANDLERS[source](state, value, partition=partition, record_ms=record_ms, config=config)
