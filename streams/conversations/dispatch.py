"""Which pure function applies a record of each source topic, with what subject and clock, what
the connected agent is told about it (`feed`), and the thread's policy view when it changed (`views`)."""
from __future__ import annotations

from channels.registry import rules
from schemas import topic
from streams.records import millis

from . import consents, customers, feed, views
from .assignments import on_assignment
from .config import ThreadingConfig
from .expiry import on_timeout
from .outbound import on_outbound
from .state import Step
from .outputs import message_refs
from .referrals import KIND as REFERRAL, referral_of
from .threading import AMENDMENTS, FOLLOW_KINDS, on_inbound

REJECTED = topic("outbound-rejected").name
APPROVED = {topic("outbound-approved").name, topic("outbound-checks").name}   # the thread stage approved it


def _inbound(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    account = config.account_of(value["thread_key"])
    step = on_inbound(state, value, partition=partition, window_ms=config.window_of(value["thread_key"]),
                      ttl_ms=config.ttl_ms, referral=referral_of(value, config.entry_point),
                      region=getattr(account, "country", None),
                      merge_typed=config.merge_typed_details(value["tenant_id"]),
                      detect=config.detect_language(value["tenant_id"]))
    if step.duplicate or value["kind"] == REFERRAL:   # a bare referral tells the agent nothing
        return step
    at, told = millis(value["occurred_at"]), []
    if value["kind"] not in FOLLOW_KINDS:
        told = feed.message(step.state, at, message_id=value["event_id"], direction="inbound",
                            text=value.get("text"), content=value.get("content", []), **message_refs(value))
    if value["kind"] in AMENDMENTS:
        return step._replace(outputs=step.outputs + told)   # an edit or unsend changes no window
    action = consents.keyword_action(value, config.consent_keywords(value["tenant_id"]))
    if action:   # STOP, BAJA, START...: recorded at once, and the fact emitted
        told += consents.from_keyword(step.state, value, action, config.ttl_ms)
    return step._replace(outputs=step.outputs + told + _policy(step.state, at, value["event_id"], config))


def _policy(state: dict | None, at: int, ref: str, config: ThreadingConfig, agent: str | None = None) -> list:
    """The policy view after a change: for the connected agent (agent-event) and, if it changed, policy-views."""
    if state is None:
        return []
    account, spec = config.account_of(state["thread_key"]), rules(state["channel"])
    return feed.policy(state, at, ref, account=account, rules=spec, agent=agent) + \
        views.publish(state, at, account=account, rules=spec)


def _assignment(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    step = on_assignment(state, value, partition=partition, ttl_ms=config.ttl_ms)
    if step.duplicate:
        return step
    at = millis(value["occurred_at"])
    if value["type"] != "connected" or feed.connected_agent(step.state) != value["agent_id"]:
        return step._replace(outputs=step.outputs + views.publish(
            step.state, at, account=config.account_of(value["thread_key"]), rules=rules(step.state["channel"])))
    return step._replace(outputs=step.outputs + _policy(step.state, at, value["assignment_id"], config))


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
        return step._replace(outputs=step.outputs + told + views.publish(step.state, record_ms, account=account,
                                                                         rules=spec))
    # The agent sees what the customer gets (declared fallbacks applied), whichever stage decides last.
    sent = next(o.value for o in step.outputs if o.topic in APPROVED)
    told = feed.message(step.state, record_ms, message_id=value["outbound_id"], direction="outbound",
                        text=" ".join(i["text"] for i in sent["content"] if i.get("text")) or None,
                        content=sent["content"])
    return step._replace(outputs=step.outputs + told + _policy(step.state, record_ms, value["outbound_id"], config))


def _timeout(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    if value["kind"] == "erased":   # switchboard/erase.py: the customer was erased, forget the thread now
        return Step(None, [], duplicate=state is None)
    step = on_timeout(state, value, window_ms=config.window_of(value["thread_key"]), ttl_ms=config.ttl_ms,
                      grace_ms=config.grace_ms)
    if step.duplicate or value["kind"] != "window_closed":
        return step
    at = millis(value["checked_at"])
    return step._replace(outputs=step.outputs + _policy(step.state, at, f"window:{value['last_activity_at']}", config))


def _consent(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    step = consents.on_consent(state, value, partition=partition, ttl_ms=config.ttl_ms)
    if step.duplicate:
        return step
    return step._replace(outputs=_policy(step.state, record_ms, value["consent_id"], config))


def _customer(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    return customers.on_customer_update(state, value, partition=partition, ttl_ms=config.ttl_ms)


def _receipt(state: dict | None, value: dict, *, partition: int, record_ms: int, config: ThreadingConfig) -> Step:
    if state is None:
        return Step(None, [], duplicate=True)   # a receipt for a thread this processor never saw
    return Step(state, feed.receipt(state, value))


# Source topic -> the pure function of its records. All are keyed by thread key and co-partitioned
# (same partition count, same partitioner), so one agent serializes every change of a thread.
HANDLERS = {"inbound-messages": _inbound, "assignments": _assignment, "outbound-messages": _outbound,
            "conversation-timeouts": _timeout, "delivery-status": _receipt, "consents": _consent,
            "customer-updates": _customer}
# Source topic -> the Avro subject of its values.
SUBJECTS = {topic(name).name: topic(name).value for name in HANDLERS}


def apply(source: str, state: dict | None, value: dict, *, partition: int, record_ms: int,
          config: ThreadingConfig) -> Step:
    """Apply one decoded record of `source`; `record_ms` is the record's Kafka timestamp."""
    return HANDLERS[source](state, value, partition=partition, record_ms=record_ms, config=config)
