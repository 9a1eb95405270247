"""Who may speak on a thread: the connected agent (or a tenant's system sender), to the thread's customer."""
from streams.conversations.outbound import on_outbound
from channels.registry import rules

from .test_decide import ACCOUNTS_, MINUTE, T0, THREADS, TTL, WINDOW, connect, reply, thread, verdict


def rejected(result) -> tuple[str, str]:
    return result.rule, result.reason


def test_a_forged_reply_from_an_agent_not_connected_is_rejected_with_who_is():
    rule, reason = rejected(verdict("whatsapp", MINUTE, agent_id="agent-mallory"))
    assert rule == "sender.not_connected" and "agent-mallory" in reason and "agent agent-ana is connected" in reason


def test_a_reply_on_a_thread_nobody_is_connected_to_is_rejected():
    rule, reason = rejected(verdict("whatsapp", MINUTE, state=thread("whatsapp", agent=None)))
    assert rule == "sender.not_connected" and "no agent is connected" in reason


def test_a_reply_to_another_threads_customer_is_rejected_though_its_window_is_open():
    other = THREADS["messenger"].rsplit(":", 1)[1]
    rule, reason = rejected(verdict("whatsapp", MINUTE, recipient_id=other))
    assert rule == "recipient.not_thread_customer" and other in reason


def test_a_reply_naming_another_conversation_is_rejected():
    rule, reason = rejected(verdict("whatsapp", MINUTE, conversation_id="conv-of-someone-else"))
    assert rule == "conversation.mismatch" and "conv-of-someone-else" in reason


def test_an_allowed_system_sender_may_write_without_being_connected():
    state, out = thread("whatsapp", agent=None), reply("whatsapp", agent_id="bot-reminders")
    account = ACCOUNTS_.get(out["channel"], out["channel_account_id"])
    step = on_outbound(state, out, account=account, rules=rules("whatsapp"), now=T0 + MINUTE, partition=0,
                       window_ms=WINDOW, ttl_ms=TTL, system_senders=frozenset({"bot-reminders"}))
    assert [o.topic for o in step.outputs][-1] == "outbound-checks"   # WhatsApp: the account stage next


def test_after_a_transfer_only_the_new_agent_may_write():
    state = connect(thread("whatsapp"), "agent-ben", T0 + 2)
    assert rejected(verdict("whatsapp", MINUTE, state=state))[0] == "sender.not_connected"   # Ana left
    assert verdict("whatsapp", MINUTE, state=state, agent_id="agent-ben").__class__.__name__ == "Approved"


def test_an_agent_who_ended_the_conversation_may_not_write_while_wrapping_up():
    from streams.conversations.assignments import on_assignment

    from .test_decide import event

    state = thread("whatsapp")
    wrapping = event("assignment_wrapup_started", agent_id="agent-ana", occurred_at=T0 + 2,
                     thread_key=state["thread_key"], tenant_id=state["tenant_id"],
                     conversation_id=state["conversation"]["conversation_id"])
    state = on_assignment(state, wrapping, partition=0, ttl_ms=TTL).state
    rule, reason = rejected(verdict("whatsapp", MINUTE, state=state))
    assert rule == "sender.not_connected" and "no agent is connected" in reason
