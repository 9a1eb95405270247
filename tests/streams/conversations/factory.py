"""Events for the conversation processor's tests, from tests/fixtures/conversations/ files."""
from __future__ import annotations

from pathlib import Path

from streams.conversations.samples import load, numbered

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"
ACCOUNTS = FIXTURES / "accounts.yaml"
HOUR, MINUTE = 3_600_000, 60_000
T0 = 1_764_063_000_000  # the fixtures' first message time


def event(name: str, **overrides) -> dict:
    """The fixture `name` with top-level fields replaced."""
    return load(FIXTURES / f"{name}.json") | overrides


def inbound(n: int = 1, at: int = T0, name: str = "inbound_whatsapp", **overrides) -> dict:
    """Inbound message number `n` (distinct platform and event ids) at `at` millis."""
    return numbered(event(name), n, at, **overrides)


def outputs_of(steps, topic: str) -> list[dict]:
    """Values of every output to `topic` in a list of steps."""
    return [o.value for s in steps for o in s.outputs if o.topic == topic]


def settled(step):
    """The step with identity's answer applied after it when its message left the thread waiting for
    identity (a new conversation that claimed details): the `settled` customer-update the matcher sends."""
    from streams.conversations.customers import on_customer_update
    from streams.conversations.state import Step
    state = step.state
    if not state or not state.get("identity_waiting"):
        return step
    outputs = list(step.outputs)
    for claim_id in state["identity_waiting"]:
        update = {"update_id": f"settled-{claim_id}", "tenant_id": state["tenant_id"],
                  "thread_key": state["thread_key"], "kind": "settled", "customer_id": state["customer_id"],
                  "group": [state["customer_id"]], "event_id": "ie-test", "claim_id": claim_id,
                  "reason": "identity decided", "occurred_at": state["conversation"]["started_at"]}
        answer = on_customer_update(state, update, partition=state["partition"], ttl_ms=192 * HOUR)
        state, outputs = answer.state, outputs + answer.outputs
    return Step(state, outputs)
