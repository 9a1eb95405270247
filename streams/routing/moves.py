"""A conversation moving between routing domains of one tenant: a blind transfer, then forwarding.

A conversation's requests go to the domain of its channel account (`keys.py`), which a producer
keyed by tenant cannot know to be another. So a blind transfer to a queue (or agent) of another
domain (`transfers.py`) ends the conversation here — the agent leaves as in any blind transfer —
leaves a tombstone naming the domain it went to (`moved_to`), and appends a `transfer` request to
that domain's partition of routing-inputs (marked `routing.moved_from`), which admits it to the
target queue like a new entry. Every later request for it that reaches this domain (a message,
a customer change, the close) is forwarded the same way, and the tombstone's time refreshed so it
outlives the conversation; a chain of moves is followed hop by hop (a domain the conversation
came back to holds it again: admitting it replaced the tombstone). Forwarded records keep their
request ids, so a replay's second copy is dropped there like any replayed request.
"""
from __future__ import annotations

from schemas import topic
from streams.records import Output
from streams.sequencer import SOURCE_HEADER, partition_of

from .domain import Domain
from .keys import domain_key
from .model import Conversation
from .queueing import finish

INPUTS = topic("routing-inputs")
REQUESTS = topic("routing-requests").name
MOVED_FROM = "routing.moved_from"  # attribute of the request that moves a conversation in


def forward(domain: Domain, request: dict) -> list[Output] | None:
    """The request, sent on to the domain its conversation moved to; None if it is not moved."""
    conv_id = request["conversation_id"]
    moved = domain.finished.get(conv_id, {}).get("moved_to")
    if moved is None or MOVED_FROM in (request.get("attributes") or {}):
        return None
    tombstone = domain.finished[conv_id]
    tombstone["at"] = max(tombstone["at"], request["requested_at"])
    domain.changed.finished.add(conv_id)
    return [_input(domain_key(domain.tenant, moved), request)]


def move(domain: Domain, conv: Conversation, there: str, queue_id: str | None, agent_id: str | None) -> None:
    """The conversation leaves this domain for domain `there` (its agent has already left it)."""
    request = {"request_id": f"{conv.conversation_id}:moved:{conv.entry}:{conv.offer_id}",
               "tenant_id": domain.tenant, "conversation_id": conv.conversation_id, "thread_key": conv.thread_key,
               "customer_id": conv.customer_id, "channel": conv.channel,
               "channel_account_id": conv.channel_account_id, "reason": "transfer", "requested_at": domain.now,
               "first_message_text": None, "language": conv.language, "preferred_agent_id": None,
               "target_queue_id": queue_id, "target_agent_id": agent_id,
               "attributes": {MOVED_FROM: domain_key(domain.tenant, domain.config.domain)},
               "history": [dict(h) for h in conv.history], "close_reason": None,
               "reply_deadline_at": conv.reply_deadline_at, "template_only": conv.template_only,
               "language_confidence": None, "message_text": None, "related_customer_ids": []}
    finish(domain, conv)
    domain.finished[conv.conversation_id]["moved_to"] = there
    domain.outputs.append(_input(domain_key(domain.tenant, there), request))


def _input(key: str, request: dict) -> Output:
    """A routing-request appended to the domain's partition of routing-inputs, as the sequencer would."""
    return Output(INPUTS.name, key, "routing-request", request, [(SOURCE_HEADER, REQUESTS.encode())],
                  partition_of(key, INPUTS.partitions))
