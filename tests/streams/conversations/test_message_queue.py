"""Each message's queue at the time: the conversation's queue, known from its assignments (state v6)."""
import io

from fastavro import schemaless_writer

from schemas import Codec, load_schema
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.state import StateCodec
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound, outputs_of, settled

CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)


class Thread:
    """One WhatsApp thread driven through the processor's dispatch, as the worker applies its inputs."""

    def __init__(self):
        self.state, self.n = None, 0

    def step(self, source: str, value: dict, at: int):
        step = settled(apply(source, self.state, value, partition=3, record_ms=at, config=CONFIG))
        self.state = step.state
        return step

    def customer_writes(self, at: int) -> dict:
        self.n += 1
        return self.added(self.step("inbound-messages", inbound(self.n, at), at))

    def agent_replies(self, agent: str, at: int) -> dict:
        self.n += 1
        reply = event("outbound_reply", outbound_id=f"out-{self.n}", agent_id=agent, created_at=at)
        return self.added(self.step("outbound-messages", reply, at))

    def assigned(self, kind: str, agent: str, queue: str, at: int, **fields) -> None:
        self.n += 1
        record = event("assignment_connected", assignment_id=f"as-{self.n}", type=kind, agent_id=agent,
                       queue_id=queue, occurred_at=at, offer_id=f"offer-{self.n}",
                       conversation_id=self.state["conversation"]["conversation_id"]) | fields
        self.step("assignments", record, at)

    @staticmethod
    def added(step) -> dict:
        [added] = [e for e in outputs_of([step], "conversation-events") if e["type"] == "message_added"]
        return added


def test_a_message_before_any_queue_is_known_has_none():
    assert Thread().customer_writes(T0)["queue_id"] is None


def test_a_waiting_conversations_messages_carry_the_queue_it_waits_in_and_no_agent_is_connected():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("queued", "", "cards", T0 + 1000, offer_id=None)   # routing opened its queue visit
    assert thread.customer_writes(T0 + MINUTE)["queue_id"] == "cards"
    conversation = thread.state["conversation"]
    assert conversation["connected_agent_id"] is None and thread.state["last_agent_id"] is None
    thread.assigned("queued", "", "loans", T0 + 2 * MINUTE, offer_id=None)   # flowed out to loans
    assert thread.customer_writes(T0 + 3 * MINUTE)["queue_id"] == "loans"


def test_messages_after_the_agent_took_it_from_a_queue_carry_that_queue_both_ways():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + MINUTE)
    assert thread.customer_writes(T0 + 2 * MINUTE)["queue_id"] == "cards"
    assert thread.agent_replies("agent-ana", T0 + 3 * MINUTE)["queue_id"] == "cards"


def test_a_transfer_to_another_queue_moves_the_messages_to_it_at_once():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + MINUTE)
    thread.assigned("transferred", "agent-ana", "cards", T0 + 2 * MINUTE, transfer_target="queue:loans",
                    reason="blind transfer")
    assert thread.customer_writes(T0 + 3 * MINUTE)["queue_id"] == "loans"   # waiting in loans, no agent yet
    thread.assigned("connected", "agent-bo", "loans", T0 + 4 * MINUTE)
    assert thread.agent_replies("agent-bo", T0 + 5 * MINUTE)["queue_id"] == "loans"


def test_a_transfer_to_an_agent_keeps_the_queue():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + MINUTE)
    thread.assigned("transferred", "agent-ana", "cards", T0 + 2 * MINUTE, transfer_target="agent:agent-bo",
                    reason="blind transfer")
    assert thread.customer_writes(T0 + 3 * MINUTE)["queue_id"] == "cards"


def test_a_new_conversation_of_the_thread_starts_with_no_queue():
    thread = Thread()
    thread.customer_writes(T0)
    thread.assigned("connected", "agent-ana", "cards", T0 + MINUTE)
    assert thread.customer_writes(T0 + 100 * HOUR)["queue_id"] is None   # past the window: a new conversation


def test_the_queue_survives_the_state_changelog_and_older_state_decodes_with_none():
    thread = Thread()
    thread.customer_writes(T0)
    codec = StateCodec(Codec())
    assert codec.loads(codec.dumps(thread.state))["conversation"]["queue_id"] is None
    thread.assigned("connected", "agent-ana", "cards", T0 + MINUTE)
    assert codec.loads(codec.dumps(thread.state))["conversation"]["queue_id"] == "cards"
    v5 = load_schema("conversation-state", 5)     # a state written before v6 (changelog replay)
    body = io.BytesIO()
    schemaless_writer(body, v5.parsed, thread.state)
    assert codec.loads(b"\xc3\x01" + v5.fingerprint + body.getvalue())["conversation"]["queue_id"] is None
