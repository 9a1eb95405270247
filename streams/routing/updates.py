"""Requests that update a conversation routing already holds, by reason (routing-request v5).

`requests.on_request` hands a known conversation's request to the handler of its reason here;
each handler is `(domain, conversation, request) -> None` and lives with the move it makes.
"""
from __future__ import annotations

from collections.abc import Callable

from .domain import Domain
from .model import Conversation

Handler = Callable[[Domain, Conversation, dict], None]
UPDATES: dict[str, Handler] = {}
