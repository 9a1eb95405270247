"""The counts `make run` prints: what each capability did during the run, from the topics."""
from __future__ import annotations

from channels.registry import CHANNELS
from deploy.flow import FlowCounter

# The channels the demo's simulated customers write on: those with a simulator (web: visitors on the
# guest socket, connectors/simulators/web.py).
DEMO_CHANNELS = tuple(name for name, spec in CHANNELS.items() if spec.simulator)


def per_channel(counter: FlowCounter, topic_name: str, kind: str | None = None) -> dict[str, int]:
    """Records per demo channel on a topic (only those of `kind` when given)."""
    if kind is None:
        return {c: counter.by_channel[(topic_name, c)] for c in DEMO_CHANNELS}
    return {c: counter.tally(topic_name, kind, c) for c in DEMO_CHANNELS}


def capability_counts(counter: FlowCounter) -> dict:
    """Messages in and delivered per channel, and the contact center's work: offers, accepts, wrap-ups."""
    return {
        "inbound": per_channel(counter, "inbound-messages"),
        # Delivered: outbound messages the platform's send API accepted (the delivery ledger's `sent`,
        # once per message). LINE and X send no delivery receipts, so receipts are counted apart.
        "delivered": per_channel(counter, "delivery-ledger", "sent"),
        "receipts": {c: counter.tally("delivery-status", "delivered", c) + counter.tally("delivery-status", "read", c)
                     for c in DEMO_CHANNELS},
        "rejected": counter.by_topic["outbound-rejected"],
        "offers": counter.tally("agent-notifications", "offered"),
        "accepted": counter.tally("agent-actions", "accept"),
        "wrapped_up": counter.tally("segment-facts", "wrapup"),
        # Blending: the simulated telephony platform's calls (work-events), and those routing counted in capacity.
        "calls": {"started": counter.tally("work-events", "started"), "ended": counter.tally("work-events", "ended"),
                  "counted": counter.tally("routing-decisions", "work_started")},
        # Who the customers are: details linked, customers merged, typed details suggested to an agent.
        "identity": {kind: counter.tally("identity-events", kind) for kind in ("linked", "merged", "suggested",
                                                                               "flagged")},
    }


def human_counts(counter: FlowCounter, humans: set[str]) -> dict:
    """What the people who signed in to the agent desk did (the simulated agents are not among them)."""
    signed_in = set(counter.agents("agent-actions", "signed_in", humans)) | set(
        counter.agents("agent-actions", "page_open", humans))
    return {"agents_signed_in": len(signed_in),
            "human_offers": sum(counter.agents("agent-notifications", "offered", humans).values()),
            "human_accepted": sum(counter.agents("agent-actions", "accept", humans).values()),
            "human_replies": sum(counter.agents("outbound-messages", "reply", humans).values())}
