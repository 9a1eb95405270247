"""What the customer sends beyond text: contacts, orders, map links, quotes, forwards, edits, unsends, groups."""
import pytest

from connectors.registry import CONNECTORS
from tests.connectors.helpers import load_test_accounts, webhook

AT = 1741950000000


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    return {a.channel: a for a in load_test_accounts(tmp_path_factory.mktemp("accounts"), "acme")}


def parse(accounts, channel, name, account=None):
    return CONNECTORS[channel].parse(account or accounts[channel], webhook(channel, name), AT)


def test_a_shared_contact_card_is_a_contact_item_per_card_not_unsupported(accounts):
    parsed = parse(accounts, "whatsapp", "contacts")
    daniel, ana = parsed.messages[0]["content"]
    assert parsed.unsupported == 0 and daniel["type"] == ana["type"] == "contact"
    card = daniel["contact"]
    assert (daniel["title"], card["organization"]) == ("Daniel Lopez", "Example Logistics / Dispatcher")
    assert [(p["value"], p["label"], p["wa_id"]) for p in card["phones"]] == [
        ("+1 415-555-0177", "CELL", "14155550177"), ("+1 415-555-0188", "WORK", None)]
    assert card["emails"][0]["value"] == "daniel.lopez@example.com"
    assert card["addresses"][0]["value"] == "500 Example Street, San Francisco, CA, 94107, United States"
    assert ana["contact"]["emails"] == [] and ana["contact"]["phones"][0]["wa_id"] == "14155550199"


def test_an_order_keeps_its_catalog_items_quantities_and_prices(accounts):
    parsed = parse(accounts, "whatsapp", "order")
    (order,) = parsed.messages[0]["content"]
    assert parsed.unsupported == 0 and order["type"] == "order"
    assert order["text"] == "Please deliver to the Shinjuku store"
    assert order["order"] == {"catalog_id": "781203948571623", "items": [
        {"product_retailer_id": "sku-router-ax3000", "quantity": 1, "item_price": 129.99, "currency": "USD"},
        {"product_retailer_id": "sku-sim-5g-unlimited", "quantity": 2, "item_price": 15.0, "currency": "USD"}]}


@pytest.mark.parametrize("channel", ["whatsapp", "line", "messenger"])
def test_every_location_gets_a_map_link_from_its_coordinates(accounts, channel):
    (place,) = parse(accounts, channel, "location").messages[0]["content"]
    assert place["url"] == ("https://www.openstreetmap.org/?mlat=35.690921&mlon=139.704046"
                            "#map=17/35.690921/139.704046")


@pytest.mark.parametrize("channel,name,quoted", [
    ("whatsapp", "reply", "wamid.HBgLMTQxNTU1NTAxMjMVAgASGBRCQUU1RjFBOUMzRDdFMkI0QTZDOAA="),
    ("line", "quote", "549130927360589942"),
    ("messenger", "reply", "m_Qb7Lm2nP4rS6tU8wX0yZ2aC4dE6fG8hJ0kL2mN4oP6qR8sT0uV2wX4yZ6aB8cD0eF2gH4iJ6kL8mN_oP1qR"),
])
def test_a_reply_keeps_the_id_of_the_message_it_quotes(accounts, channel, name, quoted):
    (message,) = parse(accounts, channel, name).messages
    assert message["reply_to_message_id"] == quoted and message["kind"] == "message"


def test_forwarded_marks_are_kept(accounts):
    (message,) = parse(accounts, "whatsapp", "forwarded").messages
    assert message["forwarded"] is True and message["frequently_forwarded"] is True
    (plain,) = parse(accounts, "whatsapp", "reply").messages
    assert plain["forwarded"] is False and plain["frequently_forwarded"] is False


def test_a_question_about_a_catalog_product_names_the_product(accounts):
    (message,) = parse(accounts, "whatsapp", "product_inquiry").messages
    assert message["attributes"]["referred_product_retailer_id"] == "sku-router-ax3000"


@pytest.mark.parametrize("channel,edit,original", [("whatsapp", "edit", "reply"), ("messenger", "edit", "reply")])
def test_an_edit_carries_the_new_text_and_points_at_the_original(accounts, channel, edit, original):
    (changed,) = parse(accounts, channel, edit).messages
    (first,) = parse(accounts, channel, original).messages
    assert changed["kind"] == "edit" and changed["target_message_id"] == first["platform_message_id"]
    assert changed["text"].endswith("4471") and changed["content"][0]["text"] == changed["text"]
    # Its own event: dedupe must not drop it as a repeat of the original.
    assert changed["event_id"] != first["event_id"]


@pytest.mark.parametrize("channel,name,original", [
    ("whatsapp", "revoke", "wamid.HBgLMTQxNTU1NTAxMjMVAgASGBQ2RDlFNEYxQTNDNUI3RDhFMEY5QQA="),
    ("line", "unsend", "549131187360590011"),
])
def test_an_unsend_names_the_message_taken_back_and_carries_no_content(accounts, channel, name, original):
    parsed = parse(accounts, channel, name)
    (unsent,) = parsed.messages
    assert (unsent["kind"], unsent["target_message_id"], unsent["content"]) == ("unsend", original, [])
    assert parsed.unsupported == 0


def test_line_group_and_room_events_are_counted_and_ignored_by_default(accounts):
    parsed = parse(accounts, "line", "group")
    assert parsed.messages == [] and parsed.ignored == 3


def test_an_account_that_enables_groups_threads_each_group_and_keeps_the_speaker(accounts):
    line = accounts["line"].model_copy(update={"groups": True})
    group_text, room_sticker, group_unsend = parse(accounts, "line", "group", line).messages
    assert group_text["thread_key"] == "acme:line:U4af4980629a1b2c3d4e5f60718293a4b:Ca56f94637c3b2a1d0e9f8a7b6c5d4e3f"
    assert group_text["sender"]["external_id"] == "U8f7e6d5c4b3a29180716f5e4d3c2b1a0"
    assert group_text["attributes"]["source_type"] == "group"
    assert room_sticker["thread_key"].endswith(":Ra8dbf4673c4c812cd491258042226c99")
    assert room_sticker["attributes"]["room_id"] == "Ra8dbf4673c4c812cd491258042226c99"
    assert group_unsend["kind"] == "unsend" and group_unsend["thread_key"] == group_text["thread_key"]


@pytest.mark.parametrize("channel,name", [("whatsapp", "order"), ("whatsapp", "edit"), ("line", "unsend"),
                                          ("messenger", "edit")])
def test_the_same_webhook_twice_gives_the_same_events(accounts, channel, name):
    assert parse(accounts, channel, name).messages == parse(accounts, channel, name).messages
