"""Versioned shared types: released subjects keep theirs, new ones get the newest, both read each other."""
import json

import pytest

from schemas import Codec, load_schema, subjects, versions
from schemas.compat import full_incompatibilities, resolves
from schemas.registry import AVRO_DIR, common_versions, released

CONTENT_ITEM = "cx.switchboard.common.ContentItem"
EXAMPLES = AVRO_DIR.parent / "examples"


def _content_item(subject: str, version: int) -> dict | None:
    """The ContentItem definition inlined into a subject version, if it uses one."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "record" and node.get("name") == "ContentItem":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(load_schema(subject, version).definition)
    return found[0] if found else None


def _symbols(item: dict) -> list[str]:
    return next(f for f in item["fields"] if f["name"] == "type")["type"]["symbols"]


def test_content_item_has_versions_with_one_full_name():
    items = common_versions()[CONTENT_ITEM]
    assert len(items) >= 2 and {f"{i['namespace']}.{i['name']}" for i in items} == {CONTENT_ITEM}


def test_every_content_item_version_is_compatible_with_every_earlier_one_both_ways():
    items = common_versions()[CONTENT_ITEM]
    for i, old in enumerate(items):
        for new in items[i + 1:]:
            assert full_incompatibilities(old, new) == []


@pytest.mark.parametrize("subject", ["inbound-message", "conversation-event", "outbound-message", "outbound-rejection"])
def test_a_version_released_before_content_item_v2_keeps_content_item_v1(subject):
    item = _content_item(subject, 1)
    assert "contact" not in _symbols(item) and item == common_versions()[CONTENT_ITEM][0]
    assert load_schema(subject, 1).fingerprint.hex() == released()[f"{subject}/v1"]


def test_every_latest_version_that_uses_content_item_gets_the_newest():
    users = [s for s in subjects() if _content_item(s, versions(s)[-1])]
    assert {"inbound-message", "outbound-message", "outbound-rejection", "conversation-event"} <= set(users)
    for subject in users:
        assert _content_item(subject, versions(subject)[-1]) == common_versions()[CONTENT_ITEM][-1], subject


def test_an_old_reader_sees_a_contact_as_unsupported_and_keeps_the_rest():
    record = json.loads((EXAMPLES / "inbound-message/whatsapp_contacts.json").read_text())
    old = resolves(record, writer=load_schema("inbound-message", 2).definition,
                   reader=load_schema("inbound-message", 1).definition)
    assert [c["type"] for c in old["content"]] == ["unsupported", "unsupported"]
    assert old["content"][0]["title"] == "Daniel Lopez" and "contact" not in old["content"][0]


def test_an_old_reader_sees_an_edit_as_other():
    record = json.loads((EXAMPLES / "inbound-message/messenger_edit.json").read_text())
    old = resolves(record, writer=load_schema("inbound-message", 2).definition,
                   reader=load_schema("inbound-message", 1).definition)
    assert old["kind"] == "other" and old["text"] == record["text"]


def test_a_v1_event_decodes_with_todays_reader_and_its_defaults():
    record = json.loads((EXAMPLES / "inbound-message/whatsapp_text.json").read_text())
    new = resolves(record, writer=load_schema("inbound-message", 1).definition,
                   reader=load_schema("inbound-message").definition)
    assert new["forwarded"] is False and new["target_message_id"] is None
    assert new["content"][0]["media_key"] is None and new["content"][0]["contact"] is None


def test_the_codec_reads_an_order_back_whole():
    record = json.loads((EXAMPLES / "inbound-message/whatsapp_order.json").read_text())
    codec = Codec()
    decoded = codec.decode(codec.encode("inbound-message", record), "inbound-message")
    assert decoded["content"][0]["order"] == record["content"][0]["order"]
