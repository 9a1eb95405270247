"""Click-to-chat links per channel (switchboard/entry_links.py): pure, over the test accounts file."""
from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.accounts import load_accounts
from switchboard.entry_links import link_of
from switchboard.errors import UserError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "entry_points" / "accounts.yaml"


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    path = tmp_path_factory.mktemp("accounts") / "accounts.yaml"
    path.write_text(FIXTURE.read_text().replace("TENANT", "acme"))
    return load_accounts(path)


def entry(channel: str, **fields) -> dict:
    return {"channel": channel, "account_id": "-", "campaign": "spring-2026", "text": "", "ad_ids": [], **fields}


def test_messenger_links_to_the_page_with_the_entry_point_as_ref(accounts):
    made = link_of("spring-sale", entry("messenger"), accounts.get("messenger", "104729385610293"))
    assert made["link"] == "https://m.me/104729385610293?ref=spring-sale"
    assert made["snippet"] == '<a href="https://m.me/104729385610293?ref=spring-sale">Chat with us on Messenger</a>'


def test_whatsapp_links_to_the_display_number_in_digits_with_the_text_percent_encoded(accounts):
    number = accounts.get("whatsapp", "109876543210987")
    made = link_of("spring-sale", entry("whatsapp", text="Hi! I saw the spring sale & want 20% off 🌷"), number)
    assert made["link"] == ("https://wa.me/15550109999?text=Hi%21%20I%20saw%20the%20spring%20sale%20%26%20want"
                            "%2020%25%20off%20%F0%9F%8C%B7")
    assert link_of("plain", entry("whatsapp"), number)["link"] == "https://wa.me/15550109999"
    assert "&amp;" not in made["snippet"] and made["link"] in made["snippet"]


def test_whatsapp_without_a_display_number_and_line_without_a_basic_id_name_the_fix(accounts):
    with pytest.raises(UserError, match="display_phone_number"):
        link_of("x", entry("whatsapp"), accounts.get("whatsapp", "109876543210999"))
    line = accounts.get("line", "U4af4980629a1b2c3d4e5f60718293a4b").model_copy(update={"basic_id": None})
    with pytest.raises(UserError, match="basic_id"):
        link_of("x", entry("line"), line)


def test_line_adds_the_friend_by_basic_id_and_x_composes_a_dm_to_the_account(accounts):
    line = link_of("p", entry("line"), accounts.get("line", "U4af4980629a1b2c3d4e5f60718293a4b"))
    assert line["link"] == "https://line.me/R/ti/p/@123abcde"
    x = link_of("p", entry("x", text="Hello Acme"), accounts.get("x", "1466859271035789312"))
    assert x["link"] == "https://twitter.com/messages/compose?recipient_id=1466859271035789312&text=Hello%20Acme"


def test_web_opens_the_widget_on_the_site_with_the_entry_point():
    deployment = {"allowed_origins": ["https://www.acme.example", "https://acme.example"]}
    made = link_of("spring-sale", entry("web"), deployment)
    assert made == {"link": "https://www.acme.example/?switchboard_entry=spring-sale",
                    "snippet": 'Switchboard("open", {entryPoint: "spring-sale"})'}
    page = link_of("spring-sale", entry("web"), deployment, site_url="https://www.acme.example/offers?utm_source=mail#top")
    assert page["link"] == "https://www.acme.example/offers?utm_source=mail&switchboard_entry=spring-sale#top"
    with pytest.raises(UserError, match="--url"):
        link_of("spring-sale", entry("web"), deployment, site_url="www.acme.example")
