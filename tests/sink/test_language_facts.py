"""The detected language as a conversation fact (conversation-event v6 -> conversation_facts, DDL 0026)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import Codec
from sink.rows import rows_of

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "conversation-event"


def decoded(name: str, tenant: str, **changes) -> dict:
    codec, record = Codec(), json.loads((EXAMPLES / name).read_text()) | {"tenant_id": tenant} | changes
    return codec.decode(codec.encode("conversation-event", record), "conversation-event")


@pytest.mark.clickhouse
def test_the_language_a_message_settled_is_the_conversations_and_later_events_keep_it(clickhouse_store, tenant):
    settled = decoded("message_added_language.json", tenant)
    conversation = settled["conversation_id"]
    started = decoded("started.json", tenant, conversation_id=conversation, event_id="ce-1")
    later = settled | {"event_id": "ce-3", "sequence": 3, "language": None, "language_confidence": None}
    undetected = decoded("started.json", tenant)   # another conversation: never confident
    for record in (started, settled, later, undetected):
        for table, row in rows_of("conversation-event", record):
            clickhouse_store.insert(table, [row])
    facts = clickhouse_store.query(
        "SELECT conversation_id, language, language_confidence FROM conversation_facts FINAL "
        "WHERE tenant_id = {t:String} ORDER BY language NULLS LAST", {"t": tenant}).result_rows
    assert facts == [(conversation, "es", 0.9731), (undetected["conversation_id"], None, None)]
