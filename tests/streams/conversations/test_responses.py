"""Each message's response, worked out as the processor puts a conversation's messages in order
(conversation-event v7 `response`, state v7 runs): what response_facts and the report views read."""
import io

from fastavro import schemaless_writer

from schemas import Codec, load_schema
from streams.conversations.state import StateCodec

from .factory import HOUR, MINUTE, T0
from .test_message_queue import Thread


def response(added: dict) -> tuple | None:
    r = added["response"]
    return None if r is None else (r["responder"], r["agent_id"], (added["occurred_at"] - r["answers_from"]) // 1000,
                                   r["first_of_conversation"], r["first_of_participation"])


def test_the_first_message_of_each_run_answers_the_first_message_of_the_run_before_it():
    thread = Thread()
    assert response(thread.customer_writes(T0)) is None                      # the conversation's first message
    assert response(thread.customer_writes(T0 + MINUTE)) is None             # the customer's run goes on
    thread.assigned("connected", "agent-ana", "cards", T0 + 2 * MINUTE)
    assert response(thread.agent_replies("agent-ana", T0 + 3 * MINUTE)) == ("agent", "agent-ana", 180, True, True)
    assert response(thread.agent_replies("agent-ana", T0 + 4 * MINUTE)) is None
    # Two days later the customer answers ana's run: theirs, timed from her first message of it.
    assert response(thread.customer_writes(T0 + 48 * HOUR)) == ("customer", "agent-ana", 48 * 3600 - 180, True, True)
    assert response(thread.agent_replies("agent-ana", T0 + 48 * HOUR + MINUTE)) == ("agent", "agent-ana", 60, False, False)


def test_after_a_transfer_the_next_agent_has_a_first_response_of_their_participation():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + 1)
    thread.agent_replies("agent-ana", T0 + MINUTE)
    thread.customer_writes(T0 + 2 * MINUTE)
    thread.assigned("transferred", "agent-ana", "cards", T0 + 3 * MINUTE, transfer_target="agent:agent-bo",
                    reason="blind transfer")
    thread.assigned("connected", "agent-bo", "cards", T0 + 4 * MINUTE)
    assert response(thread.agent_replies("agent-bo", T0 + 5 * MINUTE)) == ("agent", "agent-bo", 180, False, True)
    assert response(thread.customer_writes(T0 + 6 * MINUTE)) == ("customer", "agent-bo", 60, False, True)


def test_a_new_conversation_of_the_thread_starts_its_runs_afresh():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + 1)
    thread.agent_replies("agent-ana", T0 + MINUTE)
    assert response(thread.customer_writes(T0 + 100 * HOUR)) is None        # past the window: a new conversation
    assert thread.state["conversation"]["responders"] == []


def test_the_run_survives_the_state_changelog_and_older_state_decodes_without_one():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + 1)
    codec = StateCodec(Codec())
    thread.state = codec.loads(codec.dumps(thread.state))
    assert response(thread.agent_replies("agent-ana", T0 + MINUTE)) == ("agent", "agent-ana", 60, True, True)
    v6 = load_schema("conversation-state", 6)     # a state written before v7 (changelog replay)
    body = io.BytesIO()
    schemaless_writer(body, v6.parsed, thread.state)
    thread.state = codec.loads(b"\xc3\x01" + v6.fingerprint + body.getvalue())
    assert thread.state["conversation"]["run_side"] is None
    assert response(thread.customer_writes(T0 + 2 * MINUTE)) is None         # its run begins here
    assert response(thread.agent_replies("agent-ana", T0 + 3 * MINUTE)) == ("agent", "agent-ana", 60, True, True)
